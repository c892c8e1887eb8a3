/**
 * Test support: a private virtual sound card per test file (test/support/virtual-audio.sh), a capture
 * of what the virtual speaker played, and a way to speak into the virtual microphone.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = 'test/support/virtual-audio.sh';

export type VirtualAudio = {
  env: Record<string, string>;
  dir: string;
  /** Starts capturing the speaker's monitor (48 kHz mono PCM16). */
  capture(): Capture;
  /** Plays a WAV into the microphone in real time; resolves when it has been played. */
  speak(wav: string): Promise<void>;
  /** Routes the speaker back into the microphone (laptop speakers), at this volume; resolves with an undo. */
  echo(volumePercent: number, options?: { fixedRate?: boolean }): Promise<() => Promise<void>>;
  /** Kills the sound server, as when a device disappears. */
  killServer(): Promise<void>;
  stop(): Promise<void>;
};

export type Capture = {
  samples(): Int16Array;
  /** Resolves once `predicate` holds for what has been captured (checked on every chunk). */
  until(predicate: (samples: Int16Array) => boolean, timeoutMs?: number): Promise<Int16Array>;
  stop(): Promise<Int16Array>;
};

export async function startVirtualAudio(): Promise<VirtualAudio> {
  // Short path: it holds a unix socket.
  const dir = mkdtempSync('/tmp/hva-');
  const { stdout } = await run(SCRIPT, ['start'], { env: { ...process.env, AUDIO_DIR: dir } });
  const env: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const childEnv = { ...process.env, ...env };
  const children = new Set<ChildProcess>();
  return {
    env,
    dir,
    capture() {
      const child = spawn('parec', ['-d', 'spk.monitor', '--latency-msec=10', '--raw', '--rate=48000', '--channels=1', '--format=s16le'], {
        env: childEnv,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.add(child);
      const chunks: Buffer[] = [];
      let waiters: (() => void)[] = [];
      child.stdout!.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        for (const waiter of waiters) waiter();
      });
      const samples = (): Int16Array => {
        const all = Buffer.concat(chunks);
        return new Int16Array(all.buffer, all.byteOffset, all.length >> 1).slice();
      };
      return {
        samples,
        until(predicate, timeoutMs = 20_000) {
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
              waiters = waiters.filter((w) => w !== check);
              reject(new Error('capture: condition not met in time'));
            }, timeoutMs);
            const check = (): void => {
              const current = samples();
              if (!predicate(current)) return;
              clearTimeout(timer);
              waiters = waiters.filter((w) => w !== check);
              resolve(current);
            };
            waiters.push(check);
            check();
          });
        },
        async stop() {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
          children.delete(child);
          return samples();
        },
      };
    },
    async speak(wav) {
      await run('paplay', ['-d', 'micfeed', wav], { env: childEnv });
    },
    async echo(volumePercent, options = {}) {
      // fixedRate: the loopback does not retune its rate (adjust_time=0), so the echo path stays put.
      const fixed = options.fixedRate === true ? ['adjust_time=0'] : [];
      const { stdout: index } = await run('pactl', ['load-module', 'module-loopback', 'source=spk.monitor', 'sink=micfeed', 'latency_msec=60', ...fixed], { env: childEnv });
      const module = index.trim();
      const { stdout: inputs } = await run('pactl', ['list', 'short', 'sink-inputs'], { env: childEnv });
      // Columns: index, sink, client, driver, spec; the loopback's own stream is driven by module-loopback.c.
      const input = inputs.split('\n').map((line) => line.split('\t')).reverse().find((cols) => cols[3] === 'module-loopback.c');
      if (!input) throw new Error('virtual audio: the loopback stream did not appear');
      await run('pactl', ['set-sink-input-volume', input[0]!, `${volumePercent}%`], { env: childEnv });
      return async () => {
        await run('pactl', ['unload-module', module], { env: childEnv });
      };
    },
    async killServer() {
      const { stdout: pid } = await run('cat', [`${dir}/pulseaudio.pid`]);
      process.kill(Number(pid.trim()), 'SIGKILL');
    },
    async stop() {
      for (const child of children) child.kill('SIGKILL');
      await run(SCRIPT, ['stop'], { env: { ...process.env, AUDIO_DIR: dir } }).catch(() => undefined);
    },
  };
}

/** Sample ranges [start, end) where the signal is above `threshold`, merging gaps shorter than `mergeMs`. */
export function activeSpans(samples: Int16Array, options: { threshold?: number; mergeMs?: number; rate?: number } = {}): [number, number][] {
  const threshold = options.threshold ?? 300;
  const rate = options.rate ?? 48000;
  const merge = ((options.mergeMs ?? 100) * rate) / 1000;
  const spans: [number, number][] = [];
  for (let i = 0; i < samples.length; i += 1) {
    if (Math.abs(samples[i]!) < threshold) continue;
    const last = spans.at(-1);
    if (last && i - last[1] <= merge) last[1] = i + 1;
    else spans.push([i, i + 1]);
  }
  return spans;
}

/** Longest run of (near-)silent samples inside [start, end). */
export function longestQuiet(samples: Int16Array, start: number, end: number, threshold = 1): number {
  let run = 0;
  let best = 0;
  for (let i = start; i < end; i += 1) {
    if (Math.abs(samples[i]!) <= threshold) best = Math.max(best, ++run);
    else run = 0;
  }
  return best;
}
