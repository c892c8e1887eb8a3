/** The bench's surroundings: machine facts, the transpiled baseline, the virtual sound card, process stats. */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);
export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH_DIR, '..');
export const BUILD_DIR = join(BENCH_DIR, '.build');

export function machine(): { nproc: number; cpu: string; node: string; date: string } {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpu = line.split(':')[1]!.trim();
  } catch {
    // not Linux
  }
  return { nproc: cpus().length, cpu, node: process.version, date: new Date().toISOString() };
}

/** The baseline as plain JS (so it starts like a JS program, not through jiti): bench/.build/*.mjs. */
export function transpileBaseline(): void {
  mkdirSync(BUILD_DIR, { recursive: true });
  for (const name of ['baseline-client', 'baseline-audio']) {
    const source = readFileSync(join(BENCH_DIR, `${name}.ts`), 'utf8');
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: `${name}.ts`,
    });
    writeFileSync(join(BUILD_DIR, `${name}.mjs`), out.outputText);
  }
}

export type VirtualAudio = { dir: string; env: Record<string, string>; stop(): Promise<void> };

const SCRIPT = join(ROOT, 'test/support/virtual-audio.sh');

/** Starts a private PulseAudio for this run and puts its variables into process.env (devices need them). */
export async function startVirtualAudio(): Promise<VirtualAudio> {
  const dir = mkdtempSync('/tmp/hb-');
  const { stdout } = await run(SCRIPT, ['start'], { env: { ...process.env, AUDIO_DIR: dir } });
  const env: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  Object.assign(process.env, env);
  return {
    dir,
    env,
    async stop() {
      await run(SCRIPT, ['stop'], { env: { ...process.env, AUDIO_DIR: dir } }).catch(() => undefined);
    },
  };
}

/** CPU seconds (user+sys) and memory of a process tree from /proc; null once gone. */
export type TreeSample = { cpuS: number; rssMB: number; hwmMB: number; mainRssMB: number; mainHwmMB: number; pids: number[] };

const TICK = 100; // USER_HZ on Linux

function procCpu(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK; // utime, stime
  } catch {
    return null;
  }
}

function procMem(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(/\s(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '')?.[1] ?? 0);
    return { rss: kb('VmRSS:') / 1024, hwm: kb('VmHWM:') / 1024 };
  } catch {
    return null;
  }
}

function children(pid: number): number[] {
  try {
    const direct = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return direct.flatMap((child) => [child, ...children(child)]);
  } catch {
    return [];
  }
}

/**
 * Polls a process tree; keeps, per pid, its last CPU reading (a child that exits keeps its last value)
 * and the largest RSS seen.
 */
export class TreeWatcher {
  private readonly cpu = new Map<number, number>();
  private readonly hwm = new Map<number, number>();
  private timer: NodeJS.Timeout;
  readonly rssSeries: { t: number; mainMB: number; treeMB: number }[] = [];
  /** Cumulative CPU seconds of the whole tree (and of the root alone) over time. */
  readonly cpuSeries: { t: number; treeS: number; mainS: number }[] = [];
  private readonly started = Date.now();
  private readonly root: number;

  constructor(root: number, intervalMs = 200) {
    this.root = root;
    this.timer = setInterval(() => this.poll(), intervalMs);
    this.poll();
  }

  poll(): void {
    let tree = 0;
    let main = 0;
    for (const pid of [this.root, ...children(this.root)]) {
      const cpu = procCpu(pid);
      if (cpu !== null) this.cpu.set(pid, cpu);
      const mem = procMem(pid);
      if (mem) {
        this.hwm.set(pid, Math.max(this.hwm.get(pid) ?? 0, mem.hwm, mem.rss));
        tree += mem.rss;
        if (pid === this.root) main = mem.rss;
      }
    }
    const t = (Date.now() - this.started) / 1000;
    if (main > 0) {
      this.rssSeries.push({ t, mainMB: main, treeMB: tree });
      this.cpuSeries.push({ t, treeS: [...this.cpu.values()].reduce((s, v) => s + v, 0), mainS: this.cpu.get(this.root) ?? 0 });
    }
  }

  stop(): TreeSample {
    this.poll();
    clearInterval(this.timer);
    const pids = [...this.cpu.keys()];
    return {
      cpuS: [...this.cpu.values()].reduce((s, v) => s + v, 0),
      rssMB: this.rssSeries.at(-1)?.treeMB ?? 0,
      hwmMB: [...this.hwm.values()].reduce((s, v) => s + v, 0),
      mainRssMB: this.rssSeries.at(-1)?.mainMB ?? 0,
      mainHwmMB: this.hwm.get(this.root) ?? 0,
      pids,
    };
  }

  /** Steady-state CPU seconds per minute (tree and root), between `fromS` and the last sample. */
  cpuPerMinute(fromS: number): { tree: number; main: number; spanS: number } | null {
    const start = this.cpuSeries.find((s) => s.t >= fromS);
    const end = this.cpuSeries.at(-1);
    if (!start || !end || end.t - start.t < 1) return null;
    const span = end.t - start.t;
    return { tree: ((end.treeS - start.treeS) / span) * 60, main: ((end.mainS - start.mainS) / span) * 60, spanS: span };
  }
}
