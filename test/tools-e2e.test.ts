/**
 * Tools end to end: the real client with the real tool runner against the real simulator. Two
 * parallel calls in one turn are answered concurrently with one response.create; editing the tools
 * file mid-session re-declares the tools (session.update), and a broken edit declares nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClockSink } from '../src/audio/clock-sink.js';
import { pcmSource } from '../src/audio/file-source.js';
import { readWavMono16k } from '../src/audio/wav.js';
import { runChat, startChat, type ChatOptions } from '../src/chat.js';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import type { ClientEvent } from '../src/protocol.js';
import { createToolRunner, loadAgentConfig, validateAgentConfig, watchAgentConfig, type ReloadResult } from '../src/tools/index.js';

let hello: Buffer;
let dir: string;
const simulators: Simulator[] = [];
beforeAll(async () => {
  hello = await readWavMono16k('test/fixtures/hello-16k.wav');
  dir = await mkdtemp(join(tmpdir(), 'hydra-tools-e2e-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});

async function simulator(options: Parameters<typeof createSimulator>[0] = {}): Promise<Simulator> {
  const sim = await createSimulator({ responseDelayMs: 50, ...options });
  simulators.push(sim);
  return sim;
}

const silence = (ms: number): Buffer => Buffer.alloc(Math.round((ms / 1000) * 16000) * 2);

function chatOptions(sim: Simulator, pcm: Buffer, signal: AbortSignal, extra: Partial<ChatOptions>): ChatOptions {
  return {
    url: sim.url,
    model: 'hydra',
    apiKey: 'test-key',
    session: { voice: 'wren', generate_initial_response: false },
    source: pcmSource(pcm, { frameMs: 20 }),
    openSink: async (rate) => createClockSink(rate),
    observe: () => undefined,
    signal: AbortSignal.any([signal, AbortSignal.timeout(20_000)]),
    maxRetries: 0,
    ...extra,
  };
}

function clientFrames(sim: Simulator): ClientEvent[] {
  const frames: ClientEvent[] = [];
  sim.on('client-frame', (_id, event) => frames.push(event));
  return frames;
}

function nextFrame<T>(subscribe: (cb: (frame: T) => void) => void, match: (frame: T) => boolean): Promise<T> {
  return new Promise((resolve) => subscribe((frame) => match(frame) && resolve(frame)));
}

describe('tools against the simulator', () => {
  it('runs two parallel calls concurrently and answers both with one response.create', async () => {
    const sim = await simulator({
      rules: [{ turn: 1, calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'lookup_order', arguments: { order_id: 'A17' } }] }],
    });
    const frames = clientFrames(sim);
    // Each handler waits until both have started: they can only finish if they run at the same time.
    const spans = new Map<string, { start: number; end: number }>();
    let markStarted!: () => void;
    let startedCount = 0;
    const bothStarted = new Promise<void>((resolve) => (markStarted = () => ++startedCount === 2 && resolve()));
    const timed = (name: string, value: unknown) => async () => {
      const start = performance.now();
      markStarted();
      await bothStarted;
      spans.set(name, { start, end: performance.now() });
      return value;
    };
    const agent = validateAgentConfig(
      [
        { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, handler: timed('get_weather', { temp_c: 12 }) },
        { name: 'lookup_order', parameters: { type: 'object', properties: { order_id: { type: 'string' } } }, handler: timed('lookup_order', 'shipped') },
      ],
      join(dir, 'hydra.tools.ts'),
    );
    const source = pcmSource(Buffer.concat([silence(200), hello]), { frameMs: 20 });
    const outcome = await runChat(
      chatOptions(sim, Buffer.alloc(0), new AbortController().signal, {
        source,
        tools: createToolRunner(agent),
        endAfterInput: { inputEnded: source.ended, trailingSilenceMs: 1200 },
      }),
    );
    expect(outcome.reason).toBe('input-finished');
    const outputs = frames.flatMap((f) => (f.type === 'conversation.item.create' && f.item.type === 'function_call_output' ? [f.item.output] : []));
    expect(outputs.sort()).toEqual(['shipped', '{"temp_c":12}']);
    expect(frames.filter((f) => f.type === 'response.create')).toHaveLength(1);
    const weather = spans.get('get_weather')!;
    const order = spans.get('lookup_order')!;
    expect(weather.start).toBeLessThan(order.end);
    expect(order.start).toBeLessThan(weather.end);
  });

  it('tools changed before session.configured are declared by a session.update right after it, never before', async () => {
    const sim = await simulator();
    const frames = clientFrames(sim);
    const errors: Record<string, unknown>[] = [];
    sim.on('server-frame', (_id, f: Record<string, unknown>) => f.type === 'error' && errors.push(f));
    const runner = createToolRunner(validateAgentConfig({ tools: [{ name: 'ping', result: 'pong' }] }, 'a.json'));
    const controller = new AbortController();
    const updated = nextFrame<Record<string, unknown>>((cb) => sim.on('server-frame', (_id, f) => cb(f)), (f) => f.type === 'session.updated');
    let sent: boolean | null = null;
    const chat = startChat(
      chatOptions(sim, silence(100), controller.signal, {
        tools: runner,
        // The edit lands as the connection opens: after the state is made, before session.configured.
        observe: (event) => {
          if (event.type !== 'connection' || event.detail.status !== 'connected' || sent !== null) return;
          runner.replace(validateAgentConfig({ tools: [{ name: 'ping', result: 'pong' }, { name: 'time', result: '12:00' }] }, 'a.json'));
          sent = chat.updateTools(runner.declarations());
        },
      }),
    );
    try {
      expect(await updated).toMatchObject({ session: { tools: [{ name: 'ping' }, { name: 'time' }] } });
      expect(sent).toBe(true);
      const types = frames.map((f) => f.type).filter((t) => t.startsWith('session.'));
      expect(types).toEqual(['session.configure', 'session.update']);
      expect(errors).toEqual([]);
    } finally {
      controller.abort();
    }
    expect((await chat.done).reason).not.toBe('error');
  });

  it('re-declares tools when the file changes and ignores a broken edit', async () => {
    const sim = await simulator();
    const frames = clientFrames(sim);
    const path = join(dir, 'hydra.tools.json');
    await writeFile(path, JSON.stringify({ tools: [{ name: 'ping', result: 'pong' }] }));
    const runner = createToolRunner(await loadAgentConfig(path));
    const controller = new AbortController();
    const configured = nextFrame<Record<string, unknown>>((cb) => sim.on('server-frame', (_id, f) => cb(f)), (f) => f.type === 'session.configured');
    const chat = startChat(chatOptions(sim, silence(100), controller.signal, { tools: runner }));

    const results: ReloadResult[] = [];
    let onResult: (() => void) | null = null;
    const watcher = watchAgentConfig(path, (result) => {
      results.push(result);
      if (result.ok) {
        runner.replace(result.agent);
        chat.updateTools(runner.declarations());
      }
      onResult?.();
    });
    const nextResult = () => new Promise<ReloadResult>((resolve) => (onResult = () => resolve(results.at(-1)!)));
    try {
      await configured;
      expect(frames.find((f) => f.type === 'session.configure')).toMatchObject({ session: { tools: [{ name: 'ping' }] } });

      const update = nextFrame<ClientEvent>((cb) => sim.on('client-frame', (_id, f) => cb(f)), (f) => f.type === 'session.update');
      const updated = nextFrame<Record<string, unknown>>((cb) => sim.on('server-frame', (_id, f) => cb(f)), (f) => f.type === 'session.updated');
      const reloaded = nextResult();
      await writeFile(path, JSON.stringify({ tools: [{ name: 'ping', result: 'pong' }, { name: 'time', description: 'Now.', result: '12:00' }] }));
      expect((await reloaded).ok).toBe(true);
      expect(await update).toMatchObject({ session: { tools: [{ type: 'function', name: 'ping' }, { type: 'function', name: 'time', description: 'Now.' }] } });
      expect(await updated).toMatchObject({ session: { tools: [{ name: 'ping' }, { name: 'time' }] } });

      const broken = nextResult();
      await writeFile(path, '{ "tools": [');
      const result = await broken;
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.message).toMatch(/hydra\.tools\.json: not valid JSON/);
      expect(runner.declarations().map((t) => t.name)).toEqual(['ping', 'time']);

      // A later good edit is declared; frames arrive in order, so nothing was sent for the broken one.
      const fixed = nextFrame<ClientEvent>((cb) => sim.on('client-frame', (_id, f) => cb(f)), (f) => f.type === 'session.update' && f.session.tools?.length === 1);
      await writeFile(path, JSON.stringify({ tools: [{ name: 'ping', result: 'pong' }] }));
      await fixed;
      expect(frames.filter((f) => f.type === 'session.update')).toHaveLength(2);
    } finally {
      watcher.close();
      controller.abort();
    }
    const outcome = await chat.done;
    expect(outcome.reason).not.toBe('error');
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
  });
});
