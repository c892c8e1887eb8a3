/**
 * An accelerated long conversation through the real engine (startChat) against the in-process
 * simulator: ordinary turns, tool turns (the simulator's rules call `get_weather`, the real tool runner
 * answers), and barge-ins (the user speaks again as soon as a reply starts). Audio runs `speed`× real
 * time on both sides (the simulator's VAD follows the audio clock). Memory and active handles are
 * sampled as it goes. Shared by test/soak.test.ts (short) and bench/stress.ts (long).
 */
import { performance } from 'node:perf_hooks';
import type { AudioSink } from '../../src/audio/types.js';
import { startChat, type ChatEvent } from '../../src/chat.js';
import { createSimulator } from '../../src/mock/server.js';
import { createToolRunner, validateAgentConfig } from '../../src/tools/index.js';
import { Log, scriptedSource, silence, tone } from '../fixtures/faults/harness.js';
import { fastSink } from './fast-sink.js';

export type StressSample = { turn: number; rssMB: number; heapMB: number; handles: number; kinds: string[] };

export type StressResult = {
  turns: number;
  answered: number;
  bargeIns: number;
  interruptions: number;
  toolCalls: number;
  anomalies: number;
  wallS: number;
  /** Before the simulator and the chat started, and after both closed (after gc when exposed). */
  baseline: StressSample;
  after: StressSample;
  samples: StressSample[];
  outcome: string;
};

function sample(turn: number): StressSample {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const kinds = process.getActiveResourcesInfo();
  return { turn, rssMB: memory.rss / 1024 / 1024, heapMB: memory.heapUsed / 1024 / 1024, handles: kinds.length, kinds };
}

/** `turns` user turns; every `toolEvery`-th calls a tool, every `bargeEvery`-th is spoken over by the next. */
export async function stress(options: { turns: number; speed?: number; toolEvery?: number; bargeEvery?: number; sampleEvery?: number }): Promise<StressResult> {
  const speed = options.speed ?? 10;
  const toolEvery = options.toolEvery ?? 3;
  const bargeEvery = options.bargeEvery ?? 4;
  const baseline = sample(0);
  const started = performance.now();
  const sim = await createSimulator({
    realtimeFactor: 100,
    responseDelayMs: 5,
    rules: Array.from({ length: options.turns * 2 }, (_, i) => i + 1)
      .filter((turn) => turn % toolEvery === 0)
      .map((turn) => ({ turn, calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] })),
  });
  const agent = validateAgentConfig(
    { tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, result: { temp_c: 3 } }] },
    'stress-tools.json',
  );
  // One log per turn (waited on from its start); nothing accumulates across turns.
  let events = new Log<ChatEvent>();
  let answered = 0;
  let interruptions = 0;
  let toolCalls = 0;
  let anomalies = 0;
  // Counting instead of keeping: the log itself must not be what grows.
  const observe = (event: ChatEvent): void => {
    if (event.type === 'metric') answered += 1;
    if (event.type === 'played' && event.reason === 'speech-started' && event.droppedMs > 0) interruptions += 1;
    if (event.type === 'note' && event.note.kind === 'tool-result') toolCalls += 1;
    if (event.type === 'note' && event.note.kind === 'anomaly') anomalies += 1;
    if (event.type === 'metric' || (event.type === 'note' && ['configured', 'response-started', 'response-done'].includes(event.note.kind))) events.push(event);
  };
  const source = scriptedSource({ speed });
  let sink: AudioSink | null = null;
  const played = (): Promise<void> =>
    new Promise((resolve) => {
      if (sink === null || sink.idle()) return resolve();
      const off = sink.onIdle(() => {
        off();
        resolve();
      });
    });
  const controller = new AbortController();
  const chat = startChat({
    url: sim.url,
    model: 'hydra',
    apiKey: 'stress-key',
    session: { instructions: 'Be brief.', voice: 'reed', generate_initial_response: false },
    source,
    openSink: async (rate) => (sink = fastSink(rate, speed)),
    tools: createToolRunner(agent),
    observe,
    signal: controller.signal,
  });
  const samples: StressSample[] = [];
  let bargeIns = 0;
  const speech = (): Buffer => Buffer.concat([tone(500), silence(800)]);
  try {
    await events.waitFor((e) => e.type === 'note' && e.note.kind === 'configured', 'configured');
    for (let turn = 1; turn <= options.turns; turn += 1) {
      if (options.sampleEvery !== undefined && (turn - 1) % options.sampleEvery === 0) samples.push(sample(turn - 1));
      const before = answered;
      events = new Log<ChatEvent>();
      const log = events;
      await source.say(speech());
      if (turn % bargeEvery === 0 && turn < options.turns) {
        // Speak again as soon as the answer starts: a barge-in over a playing reply.
        await log.waitFor((e) => e.type === 'note' && e.note.kind === 'response-started', `turn ${turn}'s reply`);
        bargeIns += 1;
        continue;
      }
      const metric = await log.waitFor(() => answered > before, `turn ${turn}'s answer`);
      // An ordinary turn: let the answer finish (response.done, then the speaker runs dry) before the next.
      const from = log.items.indexOf(metric);
      await log.waitFor((e) => e.type === 'note' && e.note.kind === 'response-done', `turn ${turn}'s response.done`, 15_000, Math.max(0, from));
      await played();
    }
  } finally {
    controller.abort();
  }
  samples.push(sample(options.turns));
  const outcome = await chat.done;
  await source.close();
  await sim.close();
  // Closed handles are released in the close phase of the event loop: two turns of the loop later they are gone.
  for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  return {
    turns: options.turns,
    answered,
    bargeIns,
    interruptions,
    toolCalls,
    anomalies,
    wallS: (performance.now() - started) / 1000,
    baseline,
    after: sample(options.turns),
    samples,
    outcome: outcome.reason,
  };
}
