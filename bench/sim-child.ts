/**
 * The simulator for §7, instrumented from the inside: `createSimulator` (dist) at real time in its own
 * process, timing what it sends. Started by bench/measure/scale.ts:
 *   node --import jiti/register bench/sim-child.ts      → prints `url <ws-url>`
 * stdin `reset` starts a measurement window; `report` prints one JSON line for it:
 *   lateness: per response, delta i sent at − (delta 0 sent at + i × 40 ms)   (the simulator falling behind)
 *   think:    speech_stopped sent → first delta sent (configured 300 ms)
 *   loopP99Ms: the simulator's own event-loop delay
 */
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createSimulator } from '../dist/src/mock/server.js';
import { stats } from './lib/stats.js';

const sim = await createSimulator({ realtimeFactor: 1, idleTimeoutMs: 60_000 });
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
type Track = { stoppedAt: number | null; firstAt: number | null; index: number };
const tracks = new Map<string, Track>();
let lateness: number[] = [];
let think: number[] = [];
let deltas = 0;

sim.on('server-frame', (id, frame) => {
  const type = frame.type;
  if (type !== 'response.output_audio.delta' && type !== 'input_audio_buffer.speech_stopped' && type !== 'response.done') return;
  const at = performance.now();
  let track = tracks.get(id);
  if (!track) tracks.set(id, (track = { stoppedAt: null, firstAt: null, index: 0 }));
  if (type === 'input_audio_buffer.speech_stopped') {
    track.stoppedAt = at;
    track.firstAt = null;
  } else if (type === 'response.done') track.firstAt = null;
  else {
    deltas += 1;
    if (track.firstAt === null) {
      track.firstAt = at;
      track.index = 0;
      if (track.stoppedAt !== null) think.push(at - track.stoppedAt);
    } else {
      track.index += 1;
      lateness.push(at - (track.firstAt + track.index * 40));
    }
  }
});
sim.on('session-closed', (id) => tracks.delete(id));

process.stdout.write(`url ${sim.url}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'reset') {
    lateness = [];
    think = [];
    deltas = 0;
    loop.reset();
  } else if (line === 'report') {
    process.stdout.write(`${JSON.stringify({ lateness: stats(lateness), think: stats(think), deltas, loopP99Ms: loop.percentile(99) / 1e6, sessions: sim.sessions().length })}\n`);
  } else if (line === 'quit') break;
}
await sim.close();
process.exit(0);
