/**
 * Fuzzing the frame decoder and the session state machine (issue 7), shared by test/fuzz.test.ts (a
 * bounded sample) and bench/fuzz.ts (a million frames and more). The corpus is the recorded server
 * frames in test/fixtures/*.jsonl plus the frames of a live simulator session (`recordFrames`: tool
 * call, transcripts, a deprecation warning); each fuzzed frame is one of them mutated by a seeded PRNG (byte
 * flips, truncation, deleted or retyped fields, swapped event types, huge strings and numbers,
 * duplicated keys, deep nesting, broken base64, spliced frames, garbage). Every frame goes through
 * `decodeServerFrame`, and decoded events through `reduce` on one long-running state whose effects are
 * answered the way the shell would (tool results, debounce timers, the odd key-press interrupt).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChat } from '../../src/chat.js';
import { createSimulator } from '../../src/mock/server.js';
import { decodeServerFrame, SERVER_EVENT_TYPES } from '../../src/protocol.js';
import { initialState, MAX_ARGUMENTS_CHARS, MAX_OPEN_CALLS, reduce, type Input, type State } from '../../src/session.js';

/** The state as JSON, Maps included (JSON.stringify alone shows a Map as {}). */
export function stateJson(state: State): string {
  return JSON.stringify(state, (_key, value: unknown) => (value instanceof Map ? [...value] : value));
}
import { createToolRunner, validateAgentConfig } from '../../src/tools/index.js';
import { Log, scriptedSource, silence, tone } from '../fixtures/faults/harness.js';
import { fastSink } from './fast-sink.js';

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every recorded server frame in test/fixtures/*.jsonl. */
export function loadCorpus(fixtures = fileURLToPath(new URL('../fixtures', import.meta.url))): string[] {
  return readdirSync(fixtures)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) => readFileSync(join(fixtures, name), 'utf8').split('\n'))
    .filter((line) => line.trim() !== '');
}

/**
 * The server's text frames of a live session against the simulator, as sent: a deprecation warning
 * (profile aug-2026, model hydra), a turn answered with a tool call (rule on turn 1), a plain turn,
 * transcripts on. Audio deltas are kept to a few (they are all alike).
 */
export async function recordFrames(): Promise<string[]> {
  const sim = await createSimulator({
    profile: 'aug-2026',
    transcripts: true,
    realtimeFactor: 50,
    responseDelayMs: 5,
    rules: [{ turn: 1, calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] }],
  });
  const frames: string[] = [];
  let deltas = 0;
  sim.on('server-frame', (_id, frame) => {
    if (frame['type'] === 'response.output_audio.delta' && (deltas += 1) > 6) return;
    frames.push(JSON.stringify(frame));
  });
  const done = new Log<string>();
  const agent = validateAgentConfig(
    { tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, result: { temp_c: 3 } }] },
    'fuzz-tools.json',
  );
  const source = scriptedSource({ speed: 10 });
  const controller = new AbortController();
  const chat = startChat({
    url: sim.url,
    model: 'hydra',
    apiKey: 'fuzz-key',
    session: { instructions: 'Be brief.', voice: 'reed', generate_initial_response: false },
    source,
    openSink: async (rate) => fastSink(rate, 50),
    tools: createToolRunner(agent),
    observe: (event) => {
      if (event.type === 'note' && event.note.kind === 'configured') done.push('configured');
      if (event.type === 'note' && event.note.kind === 'response-done') done.push(event.note.responseId);
    },
    signal: AbortSignal.any([controller.signal, AbortSignal.timeout(15_000)]),
  });
  try {
    // Turn 1: the tool call, its output, the narrated answer (two responses); turn 2: a plain answer.
    await done.waitFor((item) => item === 'configured', 'configured');
    await source.say(Buffer.concat([tone(400), silence(700)]));
    await done.waitFor(() => done.items.length >= 3, 'the tool turn');
    await source.say(Buffer.concat([tone(400), silence(700)]));
    await done.waitFor(() => done.items.length >= 4, 'the plain turn');
  } finally {
    controller.abort();
    await chat.done;
    await source.close();
    await sim.close();
  }
  return frames;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

function weirdValue(rng: () => number, types: readonly string[]): Json {
  switch (Math.floor(rng() * 14)) {
    case 0:
      return null;
    case 1:
      return rng() < 0.5;
    case 2:
      return -1;
    case 3:
      return 1e308;
    case 4:
      return Number.MAX_SAFE_INTEGER + 2;
    case 5:
      return '';
    case 6:
      return 'x'.repeat(Math.floor(rng() * 100_000));
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return pick(rng, types);
    case 10:
      return 'resp_' + Math.floor(rng() * 4); // collides with other frames' ids now and then
    case 11:
      return '!!not base64!!';
    case 12:
      return 'AAE'; // valid base64 of an odd number of bytes
    default:
      return { nested: [1, 'two', { three: null }] };
  }
}

/** All paths (key lists) into a JSON value. */
function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const path = [...prefix, Array.isArray(value) ? Number(key) : key];
      out.push(path);
      paths(child as Json, path, out);
    }
  }
  return out;
}

function parent(root: Json, path: (string | number)[]): Record<string, Json> | Json[] | null {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return null;
    node = (node as Record<string, Json>)[key as string] ?? null;
  }
  return node !== null && typeof node === 'object' ? (node as Record<string, Json>) : null;
}

/** One mutated frame from the corpus. */
export function mutate(corpus: readonly string[], types: readonly string[], rng: () => number): string {
  const base = pick(rng, corpus.length === 0 ? ['{}'] : corpus);
  const strategy = Math.floor(rng() * 12);
  if (strategy === 0) {
    // Flip a few characters.
    const chars = [...base];
    for (let n = 1 + Math.floor(rng() * 4); n > 0; n -= 1) chars[Math.floor(rng() * chars.length)] = String.fromCharCode(Math.floor(rng() * 128));
    return chars.join('');
  }
  if (strategy === 1) return base.slice(0, Math.floor(rng() * base.length));
  if (strategy === 2) return base + pick(rng, corpus); // two frames glued
  if (strategy === 3) return pick(rng, ['', ' ', 'null', '[]', '42', '"text"', '{', '}', '\u0000', '{"type":null}', '{"type":{}}']);
  if (strategy === 4) return base.replace('{', `{"type":"${pick(rng, types)}",`); // a duplicated key
  if (strategy === 5) return '['.repeat(5000) + base + ']'.repeat(5000); // deep nesting
  let value: Json;
  try {
    value = JSON.parse(base) as Json;
  } catch {
    return base;
  }
  const all = paths(value);
  for (let n = 1 + Math.floor(rng() * 3); n > 0 && all.length > 0; n -= 1) {
    const path = pick(rng, all);
    const holder = parent(value, path);
    if (holder === null) continue;
    const key = path.at(-1)!;
    if (strategy === 6) {
      if (Array.isArray(holder)) holder.splice(Number(key), 1);
      else delete holder[key as string];
    } else if (strategy === 7 && !Array.isArray(holder)) {
      holder['type'] = pick(rng, types); // the body of one event under another event's type
    } else {
      (holder as Record<string, Json>)[key as string] = weirdValue(rng, types);
    }
  }
  return JSON.stringify(value);
}

export type FuzzStats = {
  frames: number;
  events: number;
  unknown: number;
  invalid: number;
  inputs: number;
  exceptions: { where: 'decode' | 'reduce'; message: string; frame: string }[];
  maxStateChars: number;
  maxOpenCalls: number;
  /** Calls remembered at once (open or answered), and responses remembered. */
  maxTrackedCalls: number;
  maxResponses: number;
};

/** The bound on state size implied by the reducer's own limits (open calls × streamed argument text), plus slack. */
export const STATE_CHARS_BOUND = MAX_OPEN_CALLS * MAX_ARGUMENTS_CHARS + 1024 * 1024;

/**
 * Runs `frames` mutated frames through the decoder and the reducer. Never throws: exceptions are
 * collected (the caller asserts there are none). `measureEvery` frames, the state's size is sampled.
 */
export function fuzz(options: { frames: number; seed: number; corpus?: string[]; measureEvery?: number }): FuzzStats {
  const corpus = options.corpus ?? loadCorpus();
  // Every type the corpus has, and every type the protocol knows (for type swaps).
  const types = [...new Set([...corpus.map((line) => (JSON.parse(line) as { type: string }).type), ...SERVER_EVENT_TYPES])];
  const rng = prng(options.seed);
  const stats: FuzzStats = { frames: 0, events: 0, unknown: 0, invalid: 0, inputs: 0, exceptions: [], maxStateChars: 0, maxOpenCalls: 0, maxTrackedCalls: 0, maxResponses: 0 };
  const fresh = (): State =>
    reduce(initialState({ voice: 'reed', tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} } }] }), {
      type: 'server',
      event: { type: 'session.configured', event_id: 'e', session: {} } as never,
      at: 0,
    }).state;
  let state = fresh();
  let at = 0;
  const pending: Input[] = [];
  const step = (input: Input, frame: string): void => {
    stats.inputs += 1;
    try {
      const result = reduce(state, input);
      state = result.state;
      for (const effect of result.effects) {
        if (effect.type === 'run-tool' && rng() < 0.8) {
          pending.push({ type: 'tool-result', callId: effect.callId, output: rng() < 0.5 ? '{"ok":true}' : 'oops', ok: rng() < 0.7, durationMs: 1, at: at + 1 });
        } else if (effect.type === 'start-debounce' && rng() < 0.9) {
          pending.push({ type: 'debounce-elapsed', token: effect.token, at: at + effect.ms });
        }
      }
    } catch (error) {
      if (stats.exceptions.length < 20) stats.exceptions.push({ where: 'reduce', message: String(error), frame: frame.slice(0, 300) });
    }
  };
  const measureEvery = options.measureEvery ?? 100;
  for (let i = 0; i < options.frames; i += 1) {
    const frame = rng() < 0.15 ? pick(rng, corpus) : mutate(corpus, types, rng); // some intact frames keep the state moving
    stats.frames += 1;
    at += 1 + rng() * 40;
    let decoded: ReturnType<typeof decodeServerFrame>;
    try {
      decoded = decodeServerFrame(frame);
    } catch (error) {
      if (stats.exceptions.length < 20) stats.exceptions.push({ where: 'decode', message: String(error), frame: frame.slice(0, 300) });
      continue;
    }
    if (decoded.kind === 'event') {
      stats.events += 1;
      step({ type: 'server', event: decoded.event, at }, frame);
    } else if (decoded.kind === 'unknown') stats.unknown += 1;
    else stats.invalid += 1;
    while (pending.length > 0 && rng() < 0.7) step(pending.shift()!, frame);
    if (rng() < 0.01) step({ type: 'interrupt', at }, frame);
    if (pending.length > 1000) pending.splice(0, pending.length - 1000);
    if (i % measureEvery === 0 || i === options.frames - 1) {
      stats.maxStateChars = Math.max(stats.maxStateChars, stateJson(state).length);
      stats.maxOpenCalls = Math.max(stats.maxOpenCalls, [...state.calls.values()].filter((call) => call.status !== 'answered').length);
      stats.maxTrackedCalls = Math.max(stats.maxTrackedCalls, state.calls.size);
      stats.maxResponses = Math.max(stats.maxResponses, state.responses.length);
    }
  }
  return stats;
}
