import { describe, expect, it } from 'vitest';
import type { ServerEvent } from '../src/protocol.js';
import { initialState, isQuiet, MAX_OPEN_CALLS, reduce, type Effect, type Input, type State } from '../src/session.js';

const pcm = Buffer.alloc(960, 1).toString('base64');

const ev = {
  configured: (rate?: number): ServerEvent => ({
    type: 'session.configured',
    session: { voice: 'wren', ...(rate ? { output_audio_sample_rate: rate } : {}) },
  }),
  started: (): ServerEvent => ({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'item_u1' }),
  stopped: (): ServerEvent => ({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 900, item_id: 'item_u1' }),
  created: (id: string): ServerEvent => ({ type: 'response.created', response: { id } }),
  delta: (id: string, delta = pcm): ServerEvent => ({ type: 'response.output_audio.delta', response_id: id, delta }),
  audioDone: (id: string): ServerEvent => ({ type: 'response.output_audio.done', response_id: id }),
  done: (id: string, status: 'completed' | 'cancelled' = 'completed', reason?: string): ServerEvent => ({
    type: 'response.done',
    response: { id, status, ...(reason ? { status_details: { reason } } : {}) },
  }),
  argsDelta: (callId: string, delta: string, name?: string): ServerEvent => ({
    type: 'response.function_call_arguments.delta',
    call_id: callId,
    delta,
    ...(name ? { name } : {}),
  }),
  argsDone: (callId: string, name: string, args: string): ServerEvent => ({
    type: 'response.function_call_arguments.done',
    call_id: callId,
    name,
    arguments: args,
  }),
};

/** Feeds inputs in order; returns the final state and every effect produced. */
function run(state: State, inputs: Input[]): { state: State; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const input of inputs) {
    const next = reduce(state, input);
    state = next.state;
    effects.push(...next.effects);
  }
  return { state, effects };
}

const server = (event: ServerEvent, at = 0): Input => ({ type: 'server', event, at });
const types = (effects: Effect[]): string[] => effects.filter((e) => e.type !== 'show').map((e) => e.type);

function configured(rate?: number): State {
  return run(initialState({ voice: 'wren' }), [server(ev.configured(rate))]).state;
}

describe('session reducer', () => {
  it('reads the output rate from session.configured, 48000 when absent', () => {
    expect(configured().outputSampleRate).toBe(48000);
    expect(configured(24000).outputSampleRate).toBe(24000);
    expect(configured().phase).toBe('listening');
  });

  it('plays deltas of the current response and measures V2V from speech_stopped', () => {
    const { effects } = run(configured(), [
      server(ev.started(), 100),
      server(ev.stopped(), 1000),
      server(ev.created('resp_1'), 1200),
      server(ev.delta('resp_1'), 1864),
      server(ev.delta('resp_1'), 1870),
    ]);
    const metrics = effects.filter((e) => e.type === 'metric');
    expect(metrics).toEqual([{ type: 'metric', metric: { kind: 'plain', v2vMs: 864 } }]);
    expect(effects.filter((e) => e.type === 'play-audio')).toHaveLength(2);
  });

  it('flushes on speech_started and drops late deltas of the interrupted response (barge-in)', () => {
    const playing = run(configured(), [server(ev.created('resp_1')), server(ev.delta('resp_1'))]).state;
    const { effects, state } = run(playing, [server(ev.started()), server(ev.delta('resp_1')), server(ev.delta('resp_1'))]);
    expect(types(effects)).toEqual(['flush-audio']);
    expect(effects.some((e) => e.type === 'show' && e.note.kind === 'interrupted')).toBe(true);
    expect(state.responseId).toBeNull();
  });

  it('flushes when a new response.created arrives before the old output_audio.done', () => {
    const playing = run(configured(), [server(ev.created('resp_1')), server(ev.delta('resp_1'))]).state;
    expect(types(reduce(playing, server(ev.created('resp_2'))).effects)).toEqual(['flush-audio']);
    const finished = run(playing, [server(ev.audioDone('resp_1')), server(ev.done('resp_1'))]).state;
    expect(types(reduce(finished, server(ev.created('resp_2'))).effects)).toEqual([]);
  });

  it('flushes on response.done cancelled of the current response', () => {
    const playing = run(configured(), [server(ev.created('resp_1')), server(ev.delta('resp_1'))]).state;
    expect(types(reduce(playing, server(ev.done('resp_1', 'cancelled', 'client_cancelled'))).effects)).toEqual(['flush-audio']);
  });

  it('assembles parallel tool calls and sends one response.create after the debounce', () => {
    let { state, effects } = run(configured(), [
      server(ev.stopped(), 0),
      server(ev.created('resp_a'), 10),
      server(ev.argsDelta('call_1', '{"ci', 'weather'), 20),
      server(ev.argsDelta('call_2', '{"id"', 'lookup'), 21),
      server(ev.argsDelta('call_1', 'ty":"Paris"}'), 22),
      server(ev.argsDone('call_1', 'weather', '{"city":"Paris"}'), 30),
      server(ev.argsDone('call_2', 'lookup', '{"id":"7"}'), 31),
      server(ev.done('resp_a'), 32),
    ]);
    expect(effects.filter((e) => e.type === 'run-tool').map((e) => e.type === 'run-tool' && e.argumentsText)).toEqual([
      '{"city":"Paris"}',
      '{"id":"7"}',
    ]);
    ({ state, effects } = run(state, [
      { type: 'tool-result', callId: 'call_1', output: '"12C"', ok: true, durationMs: 5, at: 40 },
      { type: 'tool-result', callId: 'call_2', output: '"shipped"', ok: true, durationMs: 9, at: 45 },
    ]));
    const sends = effects.filter((e) => e.type === 'send');
    expect(sends.map((e) => e.type === 'send' && e.event.type)).toEqual(['conversation.item.create', 'conversation.item.create']);
    const debounces = effects.filter((e) => e.type === 'start-debounce');
    expect(debounces).toHaveLength(1);
    const token = debounces[0]!.type === 'start-debounce' ? debounces[0]!.token : -1;
    ({ state, effects } = run(state, [
      { type: 'debounce-elapsed', token, at: 245 },
      { type: 'debounce-elapsed', token, at: 250 },
    ]));
    expect(effects.filter((e) => e.type === 'send').map((e) => e.type === 'send' && e.event.type)).toEqual(['response.create']);
    ({ effects } = run(state, [server(ev.created('resp_b'), 300), server(ev.delta('resp_b'), 700)]));
    const metric = effects.find((e) => e.type === 'metric');
    expect(metric?.type === 'metric' && metric.metric).toMatchObject({ kind: 'tool', v2vMs: 700, tool: { argsStartMs: 20, argsDoneMs: 31, responseCreateMs: 245 } });
  });

  it('answers a call after a barge-in but lets the new user turn drive the model', () => {
    let { state } = run(configured(), [
      server(ev.stopped()),
      server(ev.created('resp_a')),
      server(ev.argsDone('call_1', 'slow', '{}')),
      server(ev.done('resp_a')),
      server(ev.started()),
    ]);
    const { effects } = run(state, [{ type: 'tool-result', callId: 'call_1', output: '"ok"', ok: true, durationMs: 1, at: 1 }]);
    expect(effects.filter((e) => e.type === 'send').map((e) => e.type === 'send' && e.event.type)).toEqual(['conversation.item.create']);
    expect(effects.some((e) => e.type === 'start-debounce')).toBe(false);
    state = run(state, [{ type: 'tool-result', callId: 'call_1', output: '"ok"', ok: true, durationMs: 1, at: 1 }]).state;
  });

  it('discards results for calls this session never made (e.g. from a dropped connection)', () => {
    const { effects } = reduce(configured(), { type: 'tool-result', callId: 'call_old', output: 'x', ok: true, durationMs: 1, at: 0 });
    expect(effects).toEqual([]);
  });

  it('ignores a duplicate call_id once it ran, with a note', () => {
    const { state } = run(configured(), [server(ev.argsDone('call_1', 'x', '{}'))]);
    const { effects } = reduce(state, server(ev.argsDone('call_1', 'x', '{}')));
    expect(types(effects)).toEqual([]);
    expect(effects[0]).toMatchObject({ type: 'show', note: { kind: 'anomaly', key: 'duplicate-call' } });
  });

  it('notes undecodable audio instead of playing it', () => {
    const playing = run(configured(), [server(ev.created('resp_1'))]).state;
    const { effects } = reduce(playing, server(ev.delta('resp_1', 'AAA')));
    expect(types(effects)).toEqual([]);
    expect(effects[0]).toMatchObject({ type: 'show', note: { kind: 'anomaly' } });
  });

  it.each(['AA==AAAA', 'AAAA AAA', 'AAA\nAAAA', '***not base64***', 'A===', 'AAA'])('notes a delta that is not base64 (%j) instead of playing it', (delta) => {
    const playing = run(configured(), [server(ev.created('resp_1'))]).state;
    const { effects } = reduce(playing, server(ev.delta('resp_1', delta)));
    expect(effects).toEqual([{ type: 'show', note: { kind: 'anomaly', key: 'bad-audio:base64', message: 'dropped an audio delta: invalid base64' } }]);
  });

  it('plays base64 audio of any length, padding included', () => {
    const playing = run(configured(), [server(ev.created('resp_1'))]).state;
    for (const bytes of [2, 4, 6, 960]) {
      const pcm = Buffer.alloc(bytes, 3);
      expect(reduce(playing, server(ev.delta('resp_1', pcm.toString('base64')))).effects.find((e) => e.type === 'play-audio')).toMatchObject({ pcm });
    }
  });

  it('the interrupt key cancels the current response and flushes', () => {
    const playing = run(configured(), [server(ev.created('resp_1')), server(ev.delta('resp_1'))]).state;
    const { effects } = reduce(playing, { type: 'interrupt', at: 0 });
    expect(effects.filter((e) => e.type === 'send').map((e) => e.type === 'send' && e.event)).toMatchObject([{ type: 'response.cancel', response_id: 'resp_1' }]);
    expect(types(effects)).toContain('flush-audio');
  });

  it('is quiet only when no reply, response or tool is pending', () => {
    const base = configured();
    expect(isQuiet(base)).toBe(true);
    const waiting = run(base, [server(ev.stopped())]).state;
    expect(isQuiet(waiting)).toBe(false);
    const answered = run(waiting, [server(ev.created('r')), server(ev.delta('r')), server(ev.done('r'))]).state;
    expect(isQuiet(answered)).toBe(true);
    expect(isQuiet(initialState({ generate_initial_response: true }))).toBe(false);
  });

  it('keeps the memory of finished responses bounded over a long session', () => {
    let state = configured();
    for (let i = 0; i < 500; i += 1) {
      state = run(state, [server(ev.created(`r${i}`)), server(ev.delta(`r${i}`)), server(ev.done(`r${i}`))]).state;
    }
    expect(state.responses.length).toBeLessThanOrEqual(16);
  });
});

describe('responses that never started, ended twice or belong to another response (issue 12 item 4)', () => {
  const shows = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'show' ? [e.note] : []));
  /** A tool call of resp_1 whose arguments are still streaming. */
  const streaming = (): State =>
    run(configured(), [server(ev.stopped()), server(ev.created('resp_1')), server(ev.argsDelta('call_1', '{"city":', 'get_weather'))]).state;

  it('a response.done for a response that never started is a malformed frame, not "response done", and drops no streaming call', () => {
    const before = streaming();
    const { state, effects } = reduce(before, server(ev.done('resp_ghost')));
    expect(shows(effects)).toEqual([{ kind: 'anomaly', key: 'done-without-created', message: expect.stringMatching(/^ignored a malformed frame \(response\.done\): .*resp_ghost.*never started/) }]);
    expect(state).toBe(before);
    const after = run(state, [server(ev.argsDone('call_1', 'get_weather', '{"city":"Oslo"}'))]).effects;
    expect(after.filter((e) => e.type === 'run-tool')).toHaveLength(1);
  });

  it('a delta of a response that never started does not make its later response.done look real', () => {
    const { effects } = run(configured(), [server(ev.delta('resp_ghost')), server(ev.done('resp_ghost'))]);
    expect(shows(effects).map((n) => n.kind === 'anomaly' && n.key)).toEqual(['stale-delta', 'done-without-created']);
    expect(shows(effects).some((n) => n.kind === 'response-done')).toBe(false);
  });

  it('a duplicate response.done is shown once and changes nothing the second time', () => {
    const { state, effects } = run(configured(), [server(ev.created('resp_1')), server(ev.delta('resp_1')), server(ev.done('resp_1'))]);
    expect(shows(effects).filter((n) => n.kind === 'response-done')).toHaveLength(1);
    const withCall = run(state, [server(ev.created('resp_2')), server(ev.argsDelta('call_2', '{', 'lookup'))]).state;
    const again = reduce(withCall, server(ev.done('resp_1')));
    expect(shows(again.effects)).toEqual([{ kind: 'anomaly', key: 'duplicate-done', message: expect.stringMatching(/^ignored a malformed frame \(response\.done\)/) }]);
    expect(again.state).toBe(withCall);
    expect(again.state.calls.get('call_2')?.status).toBe('streaming');
  });

  it("the done of an earlier response (a barge-in's cancel) does not drop the current response's streaming call", () => {
    const { state } = run(configured(), [
      server(ev.created('resp_1')),
      server(ev.delta('resp_1')),
      server(ev.started()),
      server(ev.stopped()),
      server(ev.created('resp_2')),
      server(ev.argsDelta('call_2', '{"id":', 'lookup')),
    ]);
    const { state: after, effects } = reduce(state, server(ev.done('resp_1', 'cancelled', 'turn_detected')));
    expect(shows(effects).map((n) => n.kind)).toEqual(['response-done']);
    expect(types(effects)).toEqual([]); // no flush: resp_2 is current
    expect(after.responseId).toBe('resp_2');
    expect(after.calls.get('call_2')?.status).toBe('streaming');
    const { effects: done } = run(after, [server(ev.argsDone('call_2', 'lookup', '{"id":7}'))]);
    expect(done.filter((e) => e.type === 'run-tool')).toHaveLength(1);
  });

  it('a duplicate response.created is malformed: the response, its phase and its streaming call are kept', () => {
    const before = run(configured(), [server(ev.stopped()), server(ev.created('resp_1')), server(ev.delta('resp_1')), server(ev.argsDelta('call_1', '{', 'x'))]).state;
    const { state, effects } = reduce(before, server(ev.created('resp_1')));
    expect(state).toBe(before);
    expect(shows(effects)).toEqual([{ kind: 'anomaly', key: 'duplicate-created', message: expect.stringMatching(/^ignored a malformed frame \(response\.created\)/) }]);
  });

  it('function_call_arguments.done twice runs the call once', () => {
    const { effects } = run(configured(), [
      server(ev.created('resp_1')),
      server(ev.argsDone('call_1', 'x', '{}')),
      server(ev.argsDone('call_1', 'x', '{}')),
    ]);
    expect(effects.filter((e) => e.type === 'run-tool')).toHaveLength(1);
  });

  it('transcript text of an interrupted response is not shown as part of the next one; text of an unknown response is malformed', () => {
    const transcript = (id: string, delta: string): ServerEvent => ({ type: 'response.output_audio_transcript.delta', response_id: id, delta });
    const { effects } = run(configured(), [
      server(ev.created('resp_1')),
      server(transcript('resp_1', 'Hello')),
      server(ev.started()),
      server(transcript('resp_1', ' there, late')),
      server(transcript('resp_ghost', 'ghost')),
    ]);
    const texts = shows(effects).flatMap((n) => (n.kind === 'transcript' ? [n.text] : []));
    expect(texts).toEqual(['Hello']);
    expect(shows(effects).some((n) => n.kind === 'anomaly' && n.key === 'stale-transcript')).toBe(true);
  });
});

describe('ids are data, never object keys (issue 13 item 12)', () => {
  it('remembered calls stay small: a huge call_id or tool name is a malformed frame, and a finished call keeps no argument text', () => {
    const huge = 'x'.repeat(100_000);
    const { state, effects } = run(configured(), [
      server(ev.created('resp_1')),
      server(ev.argsDelta(huge, '{}')),
      server(ev.argsDone(huge, 'x', '{}')),
      server(ev.argsDone('call_1', huge, '{}')),
      server(ev.argsDone('call_2', 'x', JSON.stringify({ text: 'y'.repeat(200_000) }))),
    ]);
    expect(effects.some((e) => e.type === 'show' && e.note.kind === 'anomaly' && e.note.key === 'id-too-long')).toBe(true);
    expect(effects.filter((e) => e.type === 'run-tool').map((e) => e.type === 'run-tool' && e.callId)).toEqual(['call_2']);
    expect(JSON.stringify([...state.calls]).length).toBeLessThan(1000);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])('call_id %s is run and answered, and the turn gets its response.create', (callId) => {
    let { state, effects } = run(configured(), [
      server(ev.stopped()),
      server(ev.created(callId)),
      server(ev.argsDelta(callId, '{}', callId)),
      server(ev.argsDone(callId, callId, '{}')),
      server(ev.done(callId)),
    ]);
    expect(effects.filter((e) => e.type === 'run-tool')).toEqual([{ type: 'run-tool', callId, name: callId, argumentsText: '{}' }]);
    expect(effects.some((e) => e.type === 'show' && e.note.kind === 'anomaly')).toBe(false);
    ({ state, effects } = run(state, [{ type: 'tool-result', callId, output: '"ok"', ok: true, durationMs: 1, at: 1 }]));
    expect(effects.filter((e) => e.type === 'send').map((e) => e.type === 'send' && e.event)).toEqual([
      { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output: '"ok"' } },
    ]);
    const token = effects.find((e) => e.type === 'start-debounce');
    expect(token).toBeDefined();
    ({ effects } = run(state, [{ type: 'debounce-elapsed', token: token!.type === 'start-debounce' ? token!.token : -1, at: 300 }]));
    expect(effects.filter((e) => e.type === 'send').map((e) => e.type === 'send' && e.event.type)).toEqual(['response.create']);
  });
});

describe('many calls at once (issue 13 item 13)', () => {
  it('100 concurrent calls: each gets exactly one output — the first MAX_OPEN_CALLS run, the rest an error output — then one response.create', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `call_${i}`);
    let { state, effects } = run(configured(), [
      server(ev.stopped()),
      server(ev.created('resp_1')),
      ...ids.map((id) => server(ev.argsDelta(id, '{}', 'get_weather'))),
      ...ids.map((id) => server(ev.argsDone(id, 'get_weather', '{}'))),
      server(ev.done('resp_1')),
    ]);
    const ran = effects.flatMap((e) => (e.type === 'run-tool' ? [e.callId] : []));
    expect(ran).toHaveLength(MAX_OPEN_CALLS);
    const outputs = new Map<string, string>();
    const collect = (list: Effect[]): void => {
      for (const e of list) if (e.type === 'send' && e.event.type === 'conversation.item.create') outputs.set(e.event.item.call_id!, e.event.item.output!);
    };
    collect(effects);
    expect(outputs.size).toBe(100 - MAX_OPEN_CALLS);
    expect([...outputs.values()].every((o) => /too many tool calls at once/.test(o))).toBe(true);
    const results = ran.map((callId): Input => ({ type: 'tool-result', callId, output: '{"ok":true}', ok: true, durationMs: 1, at: 50 }));
    ({ state, effects } = run(state, results));
    collect(effects);
    expect(outputs.size).toBe(100);
    expect(ids.every((id) => outputs.has(id))).toBe(true);
    const debounces = effects.filter((e) => e.type === 'start-debounce');
    const last = debounces.at(-1)!;
    ({ effects } = run(state, [{ type: 'debounce-elapsed', token: last.type === 'start-debounce' ? last.token : -1, at: 300 }]));
    expect(effects.filter((e) => e.type === 'send').map((e) => e.type === 'send' && e.event.type)).toEqual(['response.create']);
  });

  it('a refused call arriving after the others were answered restarts the debounce instead of being forgotten', () => {
    const ids = Array.from({ length: MAX_OPEN_CALLS }, (_, i) => `c${i}`);
    const { state } = run(configured(), [server(ev.stopped()), server(ev.created('r')), ...ids.map((id) => server(ev.argsDone(id, 't', '{}')))]);
    const { effects } = reduce(state, server(ev.argsDone('extra', 't', '{}')));
    expect(effects.some((e) => e.type === 'send' && e.event.type === 'conversation.item.create')).toBe(true);
    expect(effects.some((e) => e.type === 'start-debounce')).toBe(false); // the 32 are still running
  });
});

describe('deterministic effects and counters in State (issue 14 item 2)', () => {
  const script: Input[] = [
    server(ev.configured()),
    server(ev.stopped(), 10),
    server(ev.created('resp_1'), 20),
    server(ev.argsDone('call_1', 'x', '{}'), 30),
    server(ev.done('resp_1'), 40),
    { type: 'tool-result', callId: 'call_1', output: '1', ok: true, durationMs: 1, at: 50 },
    { type: 'debounce-elapsed', token: 1, at: 250 },
    server(ev.created('resp_2'), 260),
    server(ev.delta('resp_2'), 270),
    { type: 'interrupt', at: 280 },
  ];

  it('the same inputs give the same effects, frames included (event ids are stamped at send time)', () => {
    const a = run(initialState({ voice: 'wren' }), script).effects;
    const b = run(initialState({ voice: 'wren' }), script).effects;
    expect(a.filter((e) => e.type === 'send')).toHaveLength(3);
    expect(b).toEqual(a);
    expect(a.every((e) => e.type !== 'send' || e.event.event_id === undefined)).toBe(true);
  });

  it('counts heard, answered and measured turns, and when a reply started to be awaited', () => {
    const { state } = run(initialState({ voice: 'wren' }), script);
    expect(state).toMatchObject({ heardTurns: 1, answeredTurns: 2, turns: 1, awaitingReply: false, awaitingSince: null });
    const waiting = run(state, [server(ev.stopped(), 900)]).state;
    expect(waiting).toMatchObject({ heardTurns: 2, awaitingReply: true, awaitingSince: 900 });
    const greeting = run(initialState({ generate_initial_response: true }), [server(ev.configured(), 5)]).state;
    expect(greeting).toMatchObject({ awaitingReply: true, awaitingSince: 5 });
  });
});
