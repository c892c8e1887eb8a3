import { describe, expect, it } from 'vitest';
import type { ServerEvent } from '../src/protocol.js';
import { initialState, isQuiet, reduce, type Effect, type Input, type State } from '../src/session.js';

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
    expect(state.staleNoted.length).toBeLessThanOrEqual(16);
  });
});
