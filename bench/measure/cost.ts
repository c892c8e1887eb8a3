/**
 * §5 cost: CPU seconds per minute of full-duplex conversation and peak RSS of the CLI as shipped
 * (`node bin/hydra-chat.js`), next to the baseline CLI, against a simulator child delivering replies at
 * real time. Two modes run side by side: WAV in/out (the client alone), and live on the virtual devices
 * (the client plus its audio hosts), fed the same conversation through paplay. And the RSS drift of an
 * accelerated 10-minute session (bench/soak.ts, one child per client).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWavMono16k } from '../../dist/src/audio/wav.js';
import { BENCH_DIR, BUILD_DIR, ROOT, TreeWatcher } from '../lib/env.js';
import { sleep } from '../lib/monitor.js';
import { silence, wavFile } from '../lib/sources.js';

const USAGE = join(BENCH_DIR, 'lib', 'usage-report.mjs');

export type CostRun = {
  label: string;
  cpuPerMin: number | null;
  mainCpuPerMin: number | null;
  /** Exact totals of the root process (from its own resourceUsage at exit), start-up included. */
  totalCpuS: number | null;
  uptimeS: number | null;
  mainPeakMB: number;
  treePeakMB: number;
  processes: number;
};

type Spawned = { label: string; child: ChildProcess; watcher: TreeWatcher; exited: Promise<void> };

function start(label: string, args: string[], env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(process.execPath, ['--import', USAGE, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  const watcher = new TreeWatcher(child.pid!, 200);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { label, child, watcher, exited };
}

/** A conversation WAV: `turns` × (hello, then silence long enough for the echoed reply to play). */
export async function conversationWav(turns: number): Promise<{ path: string; seconds: number }> {
  const hello = await readWavMono16k(join(ROOT, 'test/fixtures/hello-16k.wav'));
  const turn = Buffer.concat([hello, silence(4800)]);
  const pcm = Buffer.concat(Array.from({ length: turns }, () => turn));
  const path = join(BUILD_DIR, 'conversation.wav');
  writeFileSync(path, wavFile(pcm));
  return { path, seconds: pcm.length / 32000 };
}

export async function costRuns(url: string, options: { turns: number; live: boolean }): Promise<{ runs: CostRun[]; seconds: number }> {
  const { path, seconds } = await conversationWav(options.turns);
  const usageDir = mkdtempSync('/tmp/hydra-bench-usage-');
  const env = { ...process.env, BENCH_USAGE_DIR: usageDir, NO_COLOR: '1' };
  const base = join(BUILD_DIR, 'baseline-client.mjs');
  const runs: Spawned[] = [
    start('ours, WAV in/out', ['bin/hydra-chat.js', '--url', url, '--api-key', 'k', '--model', 'hydra', '--input', path, '--output', join(usageDir, 'ours.wav'), '--quiet'], env),
    start('baseline, WAV in/out', [base, '--url', url, '--input', path, '--output', join(usageDir, 'base.wav')], env),
  ];
  let feeder: ChildProcess | null = null;
  if (options.live) {
    runs.push(start('ours, live devices', ['bin/hydra-chat.js', '--url', url, '--api-key', 'k', '--model', 'hydra', '--quiet'], env));
    runs.push(start('baseline, live devices', [base, '--url', url, '--live'], env));
    await sleep(1500); // both are listening before the conversation starts
    feeder = spawn('paplay', ['-d', 'micfeed', path], { env, stdio: 'ignore' });
  }
  await Promise.all(runs.slice(0, 2).map((r) => r.exited));
  for (const r of runs.slice(2)) r.child.kill('SIGINT');
  feeder?.kill('SIGTERM');
  await Promise.race([Promise.all(runs.map((r) => r.exited)), sleep(5000)]);
  const reports = new Map<number, { userS: number; sysS: number; maxRssMB: number; uptimeS: number }>();
  for (const file of readdirSync(usageDir).filter((f) => f.endsWith('.json'))) {
    const report = JSON.parse(readFileSync(join(usageDir, file), 'utf8')) as { pid: number; userS: number; sysS: number; maxRssMB: number; uptimeS: number };
    reports.set(report.pid, report);
  }
  rmSync(usageDir, { recursive: true, force: true });
  const out: CostRun[] = runs.map((r) => {
    const perMin = r.watcher.cpuPerMinute(4);
    const sample = r.watcher.stop();
    const report = reports.get(r.child.pid!);
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    return {
      label: r.label,
      cpuPerMin: perMin?.tree ?? null,
      mainCpuPerMin: perMin?.main ?? null,
      totalCpuS: report ? report.userS + report.sysS : null,
      uptimeS: report?.uptimeS ?? null,
      mainPeakMB: report?.maxRssMB ?? sample.mainHwmMB,
      treePeakMB: sample.hwmMB,
      processes: sample.pids.length,
    };
  });
  return { runs: out, seconds };
}

/** Peak RSS and CPU of a Node process that imports `imports` and then idles 300 ms (none: the floor under §5). */
export async function idleNode(imports: string[] = []): Promise<{ maxRssMB: number; cpuS: number } | null> {
  const usageDir = mkdtempSync('/tmp/hydra-bench-usage-');
  const code = `${imports.map((m) => `await import(${JSON.stringify(m)});`).join(' ')} setTimeout(() => {}, 300);`;
  const child = spawn(process.execPath, ['--import', USAGE, '--input-type=module', '-e', code], { cwd: ROOT, env: { ...process.env, BENCH_USAGE_DIR: usageDir }, stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  const file = readdirSync(usageDir).find((f) => f.endsWith('.json'));
  const report = file ? (JSON.parse(readFileSync(join(usageDir, file), 'utf8')) as { maxRssMB: number; userS: number; sysS: number }) : null;
  rmSync(usageDir, { recursive: true, force: true });
  return report ? { maxRssMB: report.maxRssMB, cpuS: report.userS + report.sysS } : null;
}

export type Soak = { who: string; samples: { audioMin: number; rssMB: number; heapMB: number; externalMB: number }[]; audioMinutes: number; wallS: number; error?: string };

/** Accelerated sessions (bench/soak.ts) for both clients at once; memory sampled after gc() every second. */
export async function soaks(url: string, minutes: number, speed: number): Promise<Soak[]> {
  const one = (who: 'ours' | 'baseline'): Promise<Soak> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['--expose-gc', '--import', 'jiti/register', join(BENCH_DIR, 'soak.ts'), who, url, String(minutes), String(speed)], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
      const t0 = Date.now();
      const timer = setTimeout(() => child.kill('SIGKILL'), ((minutes * 60) / speed) * 1000 + 30_000);
      child.once('exit', () => {
        clearTimeout(timer);
        const samples = out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Soak['samples'][number]);
        resolve({ who, samples, audioMinutes: samples.at(-1)?.audioMin ?? 0, wallS: (Date.now() - t0) / 1000, ...(err.trim() ? { error: err.trim().split('\n').slice(-3).join(' ') } : {}) });
      });
    });
  return Promise.all([one('ours'), one('baseline')]);
}

/** Least-squares slope of y over x. */
export function slope(points: { x: number; y: number }[]): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? null : sxy / sxx;
}
