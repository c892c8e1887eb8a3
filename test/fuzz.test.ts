/**
 * A bounded fuzz sample (bench/fuzz.ts runs a million frames and more): recorded server frames (the
 * fixtures, plus a live simulator session with a tool call and transcripts), mutated, through the
 * decoder and the session reducer. No exception escapes, the decoder classifies every frame, and the
 * state stays within the reducer's own limits after every step. And the state machine recovers: after
 * any storm, a well-formed tool turn still gets its response.create (two hangs found this way).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeServerFrame, SERVER_EVENT_TYPES } from '../src/protocol.js';
import { initialState, MAX_OPEN_CALLS, MAX_REMEMBERED_RESPONSES, MAX_TRACKED_CALLS, reduce, type Effect, type Input, type State } from '../src/session.js';
import { fuzz, loadCorpus, mutate, prng, recordFrames, STATE_CHARS_BOUND } from './support/fuzz.js';

let corpus: string[];
let live: string[];

beforeAll(async () => {
  live = await recordFrames();
  corpus = [...loadCorpus(), ...live];
});

const typeOf = (line: string): string => (JSON.parse(line) as { type: string }).type;

describe('fuzz: mutated server frames', () => {
  it('the corpus is real frames of every server event type, and mutations are varied and reproducible', () => {
    // The live session: a deprecation warning, a tool call, transcripts; every frame the simulator sent decodes.
    expect(live.map(typeOf)).toEqual(expect.arrayContaining(['warning', 'response.function_call_arguments.done', 'response.output_audio_transcript.delta']));
    for (const frame of live) expect(decodeServerFrame(frame).kind, frame).toBe('event');
    expect(corpus.length).toBeGreaterThan(100);
    const types = [...new Set(corpus.map(typeOf))];
    expect([...types].sort()).toEqual([...SERVER_EVENT_TYPES].sort());
    const a = Array.from({ length: 200 }, ((rng) => () => mutate(corpus, types, rng))(prng(7)));
    const b = Array.from({ length: 200 }, ((rng) => () => mutate(corpus, types, rng))(prng(7)));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(150);
    // Mutated, not copied: most differ from every corpus frame.
    const originals = new Set(corpus);
    expect(a.filter((frame) => !originals.has(frame)).length).toBeGreaterThan(150);
  });

  for (const seed of [1, 2]) {
    it(`seed ${seed}: 10 000 frames, no exception, every frame classified, state bounded after every frame`, () => {
      const stats = fuzz({ frames: 10_000, seed, corpus, measureEvery: 1 });
      expect(stats.exceptions).toEqual([]);
      expect(stats.events + stats.unknown + stats.invalid).toBe(stats.frames);
      // The mutations reach all three outcomes and the reducer sees plenty of valid events.
      expect(stats.events).toBeGreaterThan(2_000);
      expect(stats.invalid).toBeGreaterThan(2_000);
      expect(stats.unknown).toBeGreaterThan(0);
      expect(stats.maxOpenCalls).toBeLessThanOrEqual(MAX_OPEN_CALLS);
      expect(stats.maxTrackedCalls).toBeLessThanOrEqual(MAX_TRACKED_CALLS);
      expect(stats.maxResponses).toBeLessThanOrEqual(MAX_REMEMBERED_RESPONSES);
      expect(stats.maxStateChars).toBeLessThan(STATE_CHARS_BOUND);
    });
  }
});

// ── Recovery: the reducer driven like the shell drives it (every tool answered, every timer fired) ──

const TOOLS = [{ type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: {} } }];

/** A reducer with the shell's duties: tool results and debounce timers are delivered; sends are kept. */
function driver() {
  let state: State = initialState({ voice: 'reed', tools: TOOLS });
  let at = 0;
  const later: Input[] = [];
  const sent: string[] = [];
  const apply = (input: Input): Effect[] => {
    const result = reduce(state, input);
    state = result.state;
    for (const effect of result.effects) {
      if (effect.type === 'run-tool') later.push({ type: 'tool-result', callId: effect.callId, output: '{}', ok: true, durationMs: 1, at });
      if (effect.type === 'start-debounce') later.push({ type: 'debounce-elapsed', token: effect.token, at: at + effect.ms });
      if (effect.type === 'send') sent.push(effect.event.type);
    }
    return result.effects;
  };
  const server = (event: Record<string, unknown>): Effect[] => apply({ type: 'server', event: { event_id: 'sv_x', ...event } as never, at: (at += 10) });
  return {
    server,
    apply,
    sent,
    /** Delivers what is due, in order (results may be delivered late: `hold` keeps them back). */
    deliver(hold = 0): void {
      while (later.length > hold) apply({ ...later.shift()!, at: (at += 10) });
    },
    get state(): State {
      return state;
    },
  };
}

/** A well-formed tool turn with fresh ids; true when it ended in a response.create and a narrated answer. */
function toolTurn(run: ReturnType<typeof driver>, n: number): boolean {
  const before = run.sent.filter((type) => type === 'response.create').length;
  run.server({ type: 'input_audio_buffer.speech_started', audio_start_ms: 1 });
  run.server({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 2 });
  run.server({ type: 'response.created', response: { id: `resp_clean_${n}` } });
  run.server({ type: 'response.function_call_arguments.delta', response_id: `resp_clean_${n}`, call_id: `call_clean_${n}`, name: 'get_weather', delta: '{}' });
  const ran = run.server({ type: 'response.function_call_arguments.done', response_id: `resp_clean_${n}`, call_id: `call_clean_${n}`, name: 'get_weather', arguments: '{}' });
  run.server({ type: 'response.done', response: { id: `resp_clean_${n}`, status: 'completed' } });
  run.deliver();
  if (!ran.some((effect) => effect.type === 'run-tool')) return false;
  if (run.sent.filter((type) => type === 'response.create').length !== before + 1) return false;
  run.server({ type: 'response.created', response: { id: `resp_narrate_${n}` } });
  const audio = run.server({ type: 'response.output_audio.delta', response_id: `resp_narrate_${n}`, delta: 'AAAAAA==' });
  run.server({ type: 'response.output_audio.done', response_id: `resp_narrate_${n}` });
  run.server({ type: 'response.done', response: { id: `resp_narrate_${n}`, status: 'completed' } });
  return audio.some((effect) => effect.type === 'play-audio') && run.state.phase === 'listening' && run.state.calls.size === 0;
}

describe('fuzz: the state machine recovers', () => {
  it('a barge-in while arguments stream (the response is cancelled before arguments.done) does not block later tool turns', () => {
    const run = driver();
    run.server({ type: 'session.configured', session: {} });
    run.server({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 1 });
    run.server({ type: 'response.created', response: { id: 'r1' } });
    run.server({ type: 'response.function_call_arguments.delta', response_id: 'r1', call_id: 'c1', name: 'get_weather', delta: '{"ci' });
    run.server({ type: 'input_audio_buffer.speech_started', audio_start_ms: 2 });
    run.server({ type: 'response.done', response: { id: 'r1', status: 'cancelled', status_details: { reason: 'interrupted' } } });
    expect(run.state.calls.size).toBe(0);
    expect(toolTurn(run, 1)).toBe(true);
    expect(toolTurn(run, 2)).toBe(true);
  });

  it("a slow tool of a turn the user spoke over, answered after the next turn's tool: that turn still gets its response.create", () => {
    const run = driver();
    run.server({ type: 'session.configured', session: {} });
    run.server({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 1 });
    run.server({ type: 'response.created', response: { id: 'r1' } });
    run.server({ type: 'response.function_call_arguments.done', response_id: 'r1', call_id: 'c1', name: 'get_weather', arguments: '{}' });
    run.server({ type: 'response.done', response: { id: 'r1', status: 'completed' } });
    // c1 is still running when the user speaks and the model calls c2; c2 answers first.
    run.server({ type: 'input_audio_buffer.speech_started', audio_start_ms: 2 });
    run.server({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 3 });
    run.server({ type: 'response.created', response: { id: 'r2' } });
    run.server({ type: 'response.function_call_arguments.done', response_id: 'r2', call_id: 'c2', name: 'get_weather', arguments: '{}' });
    run.server({ type: 'response.done', response: { id: 'r2', status: 'completed' } });
    run.apply({ type: 'tool-result', callId: 'c2', output: '{}', ok: true, durationMs: 1, at: 100 });
    run.apply({ type: 'tool-result', callId: 'c1', output: '{}', ok: true, durationMs: 900, at: 101 });
    run.deliver();
    expect(run.sent.filter((type) => type === 'conversation.item.create')).toHaveLength(2);
    expect(run.sent.filter((type) => type === 'response.create')).toHaveLength(1);
    expect(run.state.calls.size).toBe(0);
    expect(toolTurn(run, 3)).toBe(true);
  });

  it('a superseded turn alone still asks for no response (its outputs are sent, the new turn drives the model)', () => {
    const run = driver();
    run.server({ type: 'session.configured', session: {} });
    run.server({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 1 });
    run.server({ type: 'response.created', response: { id: 'r1' } });
    run.server({ type: 'response.function_call_arguments.done', response_id: 'r1', call_id: 'c1', name: 'get_weather', arguments: '{}' });
    run.server({ type: 'response.done', response: { id: 'r1', status: 'completed' } });
    run.server({ type: 'input_audio_buffer.speech_started', audio_start_ms: 2 });
    run.deliver();
    expect(run.sent).toEqual(['conversation.item.create']);
    expect(toolTurn(run, 4)).toBe(true);
  });

  it('after 40 storms of mutated frames (results delivered late or on time), a clean tool turn always completes', () => {
    const types = [...new Set([...corpus.map(typeOf), ...SERVER_EVENT_TYPES])];
    const failures: number[] = [];
    for (let seed = 1; seed <= 40; seed += 1) {
      const rng = prng(seed);
      const run = driver();
      run.server({ type: 'session.configured', session: {} });
      for (let i = 0; i < 400; i += 1) {
        const decoded = decodeServerFrame(rng() < 0.3 ? corpus[Math.floor(rng() * corpus.length)]! : mutate(corpus, types, rng));
        if (decoded.kind === 'event') run.apply({ type: 'server', event: decoded.event, at: i * 10 });
        run.deliver(Math.floor(rng() * 3)); // some results arrive a few frames late, as slow tools do
        if (rng() < 0.01) run.apply({ type: 'interrupt', at: i * 10 });
      }
      run.deliver();
      if (!toolTurn(run, seed) || !toolTurn(run, seed + 1000)) failures.push(seed);
    }
    expect(failures).toEqual([]);
  });
});
