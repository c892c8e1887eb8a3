/**
 * One accelerated long session, in its own process (started by bench/measure/cost.ts with --expose-gc):
 *   node --expose-gc --import jiti/register bench/soak.ts <ours|baseline> <ws-url> <minutes> <speed>
 * The microphone (hello, then 4.8 s of silence, repeated) and the speaker both run at <speed>× real
 * time; the simulator (realtime factor ≥ speed) answers every turn. Every wall second, after gc(), one
 * JSON line: { audioMin, rssMB, heapMB, externalMB }.
 */
import { performance } from 'node:perf_hooks';
import { readWavMono16k } from '../dist/src/audio/wav.js';
import { recorder, runBaseline, runOurs } from './lib/clients.js';
import { scriptedSource, silence } from './lib/sources.js';
import { fastSink } from '../test/support/fast-sink.js';

async function main(): Promise<void> {
  const [who, url, minutesText, speedText] = process.argv.slice(2);
  const minutes = Number(minutesText);
  const speed = Number(speedText);
  const gc = (globalThis as { gc?: () => void }).gc;
  const hello = await readWavMono16k('test/fixtures/hello-16k.wav');
  const turn = Buffer.concat([hello, silence(4800)]);
  const script = scriptedSource(20, speed);
  const rec = recorder();
  const keep = (): void => {
    // The recorder is for the latency sections; here it must not grow.
    rec.inFrames.length = 0;
    rec.outFrames.length = 0;
    rec.sent.length = 0;
    rec.writes.length = 0;
    rec.flushes.length = 0;
    rec.played.length = 0;
    rec.handlerMs.length = 0;
  };
  let stop: () => Promise<void>;
  if (who === 'ours') {
    const run = runOurs({ url: url!, source: script.source, openSink: async (rate) => fastSink(rate, speed), rec });
    stop = () => run.stop();
  } else {
    const sink = fastSink(48000, speed);
    const run = runBaseline({ url: url!, source: script.push, sink, rec });
    stop = async () => {
      await run.stop();
      await sink.close();
    };
  }
  const turnMs = (turn.length / 32000) * 1000;
  let audioMs = 0;
  const t0 = performance.now();
  const sampler = setInterval(() => {
    keep();
    gc?.();
    const m = process.memoryUsage();
    const mb = (b: number): number => Math.round((b / 1048576) * 100) / 100;
    process.stdout.write(`${JSON.stringify({ audioMin: audioMs / 60000, wallS: (performance.now() - t0) / 1000, rssMB: mb(m.rss), heapMB: mb(m.heapUsed), externalMB: mb(m.external + m.arrayBuffers) })}\n`);
  }, 1000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  while (audioMs < minutes * 60_000) {
    await script.say(turn, speed);
    audioMs += turnMs;
  }
  clearInterval(sampler);
  keep();
  gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ audioMin: audioMs / 60000, wallS: (performance.now() - t0) / 1000, rssMB: m.rss / 1048576, heapMB: m.heapUsed / 1048576, externalMB: (m.external + m.arrayBuffers) / 1048576 })}\n`);
  script.stop();
  await stop();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
