/** §1 mic→wire with the WAV source, and §4 tool-turn overhead: no audio devices involved. */
import { performance } from 'node:perf_hooks';
import { createClockSink } from '../../dist/src/audio/clock-sink.js';
import { pcmSource } from '../../dist/src/audio/file-source.js';
import { readWavMono16k } from '../../dist/src/audio/wav.js';
import type { BaselineSink } from '../baseline-client.js';
import { recorder, runBaseline, runOurs, type Recorder } from '../lib/clients.js';
import { sleep } from '../lib/monitor.js';
import { scriptedSource, silence, steadyVoice } from '../lib/sources.js';

const nullSink: BaselineSink = { write: () => undefined, flush: () => undefined, close: async () => undefined };

/** capturedAt → sentAt of every frame sent while a WAV (hello + silence) plays for `seconds`. */
export async function micToWireWav(url: string, seconds: number): Promise<{ ours: number[]; baseline: number[]; oursRate: number; baselineRate: number }> {
  const hello = await readWavMono16k('test/fixtures/hello-16k.wav');
  const pcm = Buffer.concat([hello, silence(500), hello]);
  const oursRec = recorder();
  const ours = runOurs({ url, source: pcmSource(pcm, { frameMs: 20 }), openSink: async (rate) => createClockSink(rate), rec: oursRec });
  await sleep(seconds * 1000);
  await ours.stop();
  const baseRec = recorder();
  const base = runBaseline({ url, source: { kind: 'pcm', pcm }, sink: nullSink, rec: baseRec });
  await sleep(seconds * 1000);
  await base.stop();
  const lat = (rec: Recorder): number[] => rec.sent.slice(5).map((s) => s.sentAt - s.capturedAt);
  // Frames per second actually sent (real time = 50/s): the cost of setInterval pacing.
  const rate = (rec: Recorder): number => {
    const sent = rec.sent.slice(5);
    return sent.length > 1 ? ((sent.length - 1) * 1000) / (sent.at(-1)!.sentAt - sent[0]!.sentAt) : 0;
  };
  return { ours: lat(oursRec), baseline: lat(baseRec), oursRate: rate(oursRec), baselineRate: rate(baseRec) };
}

export type ToolTurns = {
  overheadMs: number[];
  totalMs: number[];
  handlerMs: number[];
  /** args.done → tool output sent, minus the handler. */
  toOutputMs: number[];
  /** tool output sent → response.create, minus the 200 ms debounce (timer lateness + dispatch). */
  debounceLateMs: number[];
  turns: number;
};

/**
 * Tool turns: the simulator's rules make every user turn a get_weather call. Per turn: `…arguments.done`
 * arriving → `response.create` sent, minus the handler's time and the 200 ms debounce.
 */
export async function toolTurns(url: string, who: 'ours' | 'baseline', turns: number): Promise<ToolTurns> {
  const rec = recorder();
  const script = scriptedSource(20);
  const run =
    who === 'ours'
      ? runOurs({ url, source: script.source, openSink: async (rate) => createClockSink(rate), rec, tools: true })
      : runBaseline({ url, source: script.push, sink: nullSink, rec, tools: true });
  const utterance = Buffer.concat([steadyVoice(400), silence(700)]);
  await waitFor(() => rec.inFrames.some((f) => f.type === 'session.configured'), 5000);
  await sleep(100);
  for (let turn = 0; turn < turns; turn += 1) {
    const before = rec.outFrames.filter((f) => f.type === 'response.create').length;
    await script.say(utterance, 20);
    await waitFor(() => rec.outFrames.filter((f) => f.type === 'response.create').length > before, 5000);
    await sleep(60);
  }
  script.stop();
  await run.stop();
  const overheadMs: number[] = [];
  const totalMs: number[] = [];
  const dones = rec.inFrames.filter((f) => f.type === 'response.function_call_arguments.done');
  const creates = rec.outFrames.filter((f) => f.type === 'response.create');
  const outputs = rec.outFrames.filter((f) => f.type === 'conversation.item.create');
  const toOutputMs: number[] = [];
  const debounceLateMs: number[] = [];
  dones.forEach((done, index) => {
    const create = creates.find((c) => c.at > done.at);
    const output = outputs.find((o) => o.at > done.at);
    const handler = rec.handlerMs[index];
    if (!create || !output || handler === undefined) return;
    totalMs.push(create.at - done.at);
    overheadMs.push(create.at - done.at - handler - 200);
    toOutputMs.push(output.at - done.at - handler);
    debounceLateMs.push(create.at - output.at - 200);
  });
  return { overheadMs, totalMs, handlerMs: rec.handlerMs, toOutputMs, debounceLateMs, turns: dones.length };
}

export async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > timeoutMs) return false;
    await sleep(5);
  }
  return true;
}
