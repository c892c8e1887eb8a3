/**
 * §7 simulator scale: N concurrent real-time sessions against one simulator child (`hydra-chat simulate
 * --realtime-factor 1`). Each session is a lean load client (pre-encoded frames, one shared drift-free
 * clock): 1 s of voice then 2 s of silence, repeated, phases staggered; the simulator echoes each turn
 * (1 s of reply in 25 deltas of 40 ms at real time). Per N: V2V (speech_stopped → first delta; the
 * simulator thinks 300 ms), delta lateness against the 40 ms schedule of its response, VAD lag
 * (speech_stopped arriving vs. the frame that completed the 600 ms of silence being sent), the
 * simulator's CPU and the load generator's own event-loop delay (to tell whose limit was hit).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { BENCH_DIR, ROOT, TreeWatcher } from '../lib/env.js';
import { sleep } from '../lib/monitor.js';
import { silence, steadyVoice } from '../lib/sources.js';
import { stats, type Stats } from '../lib/stats.js';

export type ScaleStep = {
  n: number;
  connected: number;
  /** Seen by the load clients (includes their own event-loop delay). */
  v2v: Stats | null;
  lateness: Stats | null;
  vadLag: Stats | null;
  deltas: number;
  /** Seen inside the simulator (bench/sim-child.ts): when it sent. */
  sim: SimReport | null;
  simCpuPct: number | null;
  loadLoopP99Ms: number;
  behind: boolean;
};

export type SimReport = { lateness: Stats | null; think: Stats | null; deltas: number; loopP99Ms: number; sessions: number };

export type SimChild = { url: string; pid: number; command(line: string): void; report(): Promise<SimReport>; stop(): Promise<void> };

/** bench/sim-child.ts: the simulator at real time, timing its own sends. */
export async function startSimChild(): Promise<SimChild> {
  const child = spawn(process.execPath, ['--import', 'jiti/register', join(BENCH_DIR, 'sim-child.ts')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr!.resume();
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));
  const first = await Promise.race([next(), sleep(15_000).then(() => '')]);
  if (!first.startsWith('url ')) throw new Error('bench/sim-child.ts did not start');
  return {
    url: first.slice(4),
    pid: child.pid!,
    command: (line) => void child.stdin!.write(`${line}\n`),
    async report() {
      const answer = next();
      child.stdin!.write('report\n');
      return JSON.parse(await answer) as SimReport;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.write('quit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const FRAME_MS = 20;
const CYCLE_FRAMES = 150; // 3 s
const SPEECH_FRAMES = 50; // 1 s
const STOP_FRAME = SPEECH_FRAMES + 29; // the frame whose end completes 600 ms of silence

function cycleFrames(): string[] {
  const pcm = Buffer.concat([steadyVoice(1000), silence(2000)]);
  const bytes = (16000 * FRAME_MS * 2) / 1000;
  const frames: string[] = [];
  for (let i = 0; i < CYCLE_FRAMES; i += 1) {
    frames.push(JSON.stringify({ type: 'input_audio_buffer.append', audio: pcm.subarray(i * bytes, (i + 1) * bytes).toString('base64') }));
  }
  return frames;
}

type Client = {
  ws: WebSocket;
  configured: boolean;
  phase: number;
  sentFrames: number;
  sentAt: Map<number, number>;
  stoppedAt: number[];
  firstDelta: number | null;
  deltaIndex: number;
  v2v: number[];
  lateness: number[];
  vadLag: number[];
  deltas: number;
  measuring: boolean;
};

export async function scaleStep(simulator: SimChild, n: number, seconds: number): Promise<ScaleStep> {
  const url = simulator.url;
  const frames = cycleFrames();
  const clients: Client[] = [];
  const target = new URL(url);
  target.searchParams.set('model', 'hydra');
  target.searchParams.set('api_key', 'bench-key');
  const connect = (index: number): Promise<void> =>
    new Promise((resolve) => {
      const ws = new WebSocket(target.toString());
      const client: Client = {
        ws,
        configured: false,
        phase: Math.floor((index * CYCLE_FRAMES) / n) % CYCLE_FRAMES,
        sentFrames: 0,
        sentAt: new Map(),
        stoppedAt: [],
        firstDelta: null,
        deltaIndex: 0,
        v2v: [],
        lateness: [],
        vadLag: [],
        deltas: 0,
        measuring: false,
      };
      clients.push(client);
      const timer = setTimeout(resolve, 10_000);
      ws.on('error', () => resolve());
      ws.on('message', (data: Buffer) => {
        const at = performance.now();
        const head = data.toString('latin1', 0, 48);
        if (head.includes('output_audio.delta')) {
          client.deltas += 1;
          if (client.firstDelta === null) {
            client.firstDelta = at;
            client.deltaIndex = 0;
            const stopped = client.stoppedAt.at(-1);
            if (stopped !== undefined && client.measuring) client.v2v.push(at - stopped);
          } else {
            client.deltaIndex += 1;
            if (client.measuring) client.lateness.push(at - (client.firstDelta + client.deltaIndex * 40));
          }
          return;
        }
        const type = (JSON.parse(data.toString('utf8')) as { type: string }).type;
        if (type === 'session.created') ws.send(JSON.stringify({ type: 'session.configure', session: { voice: 'wren' } }));
        else if (type === 'session.configured') {
          client.configured = true;
          clearTimeout(timer);
          resolve();
        } else if (type === 'input_audio_buffer.speech_stopped') {
          client.stoppedAt.push(at);
          client.firstDelta = null;
          // The frame that completed 600 ms of silence in the most recent cycle (stream index j: content frames[j % 150]).
          const latest = client.sentFrames - 1 + client.phase;
          const cycle = Math.round((latest - STOP_FRAME) / CYCLE_FRAMES);
          const sent = client.sentAt.get(cycle * CYCLE_FRAMES + STOP_FRAME);
          if (sent !== undefined && client.measuring) client.vadLag.push(at - sent);
        } else if (type === 'response.done') client.firstDelta = null;
      });
    });
  for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, k) => connect(i + k)));
  const live = clients.filter((c) => c.configured);
  // One clock for every client: frame k of client c is due at t0 + k × 20 ms.
  const t0 = performance.now();
  let running = true;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const tick = (): void => {
    if (!running) return;
    const now = performance.now();
    const due = Math.floor((now - t0) / FRAME_MS) + 1;
    for (const client of live) {
      while (client.sentFrames < due) {
        const index = client.sentFrames;
        if (client.ws.readyState === WebSocket.OPEN) client.ws.send(frames[(index + client.phase) % CYCLE_FRAMES]!);
        if ((index + client.phase) % CYCLE_FRAMES === STOP_FRAME) client.sentAt.set(index + client.phase, now);
        client.sentFrames += 1;
      }
    }
    setTimeout(tick, Math.max(0, t0 + due * FRAME_MS - performance.now()));
  };
  tick();
  await sleep(3200); // one cycle of warm-up
  for (const client of live) client.measuring = true;
  loop.reset();
  simulator.command('reset');
  const watcher = new TreeWatcher(simulator.pid, 250);
  await sleep(seconds * 1000);
  const cpu = watcher.cpuPerMinute(0);
  watcher.stop();
  const sim = await simulator.report().catch(() => null);
  running = false;
  loop.disable();
  for (const client of clients) client.ws.terminate();
  const v2v = stats(live.flatMap((c) => c.v2v));
  const lateness = stats(live.flatMap((c) => c.lateness));
  const vadLag = stats(live.flatMap((c) => c.vadLag));
  const deltas = live.reduce((s, c) => s + c.deltas, 0);
  const loadLoopP99Ms = loop.percentile(99) / 1e6;
  return {
    n,
    connected: live.length,
    v2v,
    lateness,
    vadLag,
    deltas,
    sim,
    simCpuPct: cpu ? (cpu.main / 60) * 100 : null,
    loadLoopP99Ms,
    // Behind (judged where the frames are sent, inside the simulator): replies start late (think p50 >
    // 300 ms + 100) or deltas leave > one 40 ms chunk late at p95. Sessions refused count too.
    behind: live.length < n || !sim || (sim.think?.p50 ?? Infinity) > 400 || (sim.lateness?.p95 ?? Infinity) > 40,
  };
}
