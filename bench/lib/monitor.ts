/**
 * What the virtual speaker really played: `parec` on spk.monitor (48 kHz mono s16, 10 ms latency), with
 * each sample mapped onto this process's performance.now() clock. The mapping is the lower envelope of
 * (chunk arrival − chunk end position): the earliest moment each sample was observable. Onsets and
 * silences found in the capture are timed with it, and the device click round trip is measured with the
 * same method, so the two compare directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const RATE = 48000;

export class Monitor {
  private readonly child: ChildProcess;
  /** Everything captured, in a buffer grown by doubling (samples() must stay O(1): it is polled). */
  private store = Buffer.alloc(48000 * 2 * 30);
  private bytes = 0;
  private offset = Number.POSITIVE_INFINITY; // perf time of sample 0
  private odd: Buffer = Buffer.alloc(0);

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn('parec', ['-d', 'spk.monitor', '--latency-msec=10', '--raw', '--rate=48000', '--channels=1', '--format=s16le'], {
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const now = performance.now();
      let data = this.odd.length ? Buffer.concat([this.odd, chunk]) : chunk;
      if (data.length % 2) {
        this.odd = data.subarray(data.length - 1);
        data = data.subarray(0, data.length - 1);
      } else this.odd = Buffer.alloc(0);
      if (this.bytes + data.length > this.store.length) {
        const grown = Buffer.alloc(Math.max(this.store.length * 2, this.bytes + data.length));
        this.store.copy(grown, 0, 0, this.bytes);
        this.store = grown;
      }
      data.copy(this.store, this.bytes);
      this.bytes += data.length;
      const endSample = this.bytes / 2;
      this.offset = Math.min(this.offset, now - (endSample / RATE) * 1000);
    });
  }

  /** Waits until the capture is flowing. */
  async ready(): Promise<void> {
    const t0 = performance.now();
    while (this.bytes < 4800 && performance.now() - t0 < 5000) await sleep(10);
    if (this.bytes < 4800) throw new Error('parec delivered nothing from spk.monitor');
  }

  samples(): Int16Array {
    return new Int16Array(this.store.buffer, this.store.byteOffset, this.bytes >> 1);
  }

  count(): number {
    return this.bytes / 2;
  }

  timeOf(sample: number): number {
    return this.offset + (sample / RATE) * 1000;
  }

  sampleAt(time: number): number {
    return Math.max(0, Math.round(((time - this.offset) * RATE) / 1000));
  }

  /** First sample at/after `from` whose magnitude exceeds `threshold`, or -1. */
  onset(fromTime: number, threshold = 1000): number {
    const s = this.samples();
    for (let i = this.sampleAt(fromTime); i < s.length; i += 1) if (Math.abs(s[i]!) > threshold) return i;
    return -1;
  }

  /**
   * The end of sound after `fromTime`: the sample after the last loud one that is followed by at least
   * `quietMs` of quiet (within what was captured), or -1 when the capture has not gone quiet yet.
   */
  silenceAfter(fromTime: number, threshold = 300, quietMs = 100): number {
    const s = this.samples();
    const need = (quietMs * RATE) / 1000;
    let lastLoud = this.sampleAt(fromTime) - 1;
    for (let i = Math.max(0, lastLoud + 1); i < s.length; i += 1) {
      if (Math.abs(s[i]!) > threshold) lastLoud = i;
      else if (i - lastLoud >= need) return lastLoud + 1;
    }
    return -1;
  }

  /** Quiet gaps (no sample above `threshold`) of at least `minMs` inside [from, to) samples: dropouts in continuous audio. */
  gaps(from: number, to: number, minMs = 10, threshold = 300): number[] {
    const s = this.samples();
    const min = (minMs * RATE) / 1000;
    const out: number[] = [];
    let last = -1;
    for (let i = Math.max(0, from); i < Math.min(to, s.length); i += 1) {
      if (Math.abs(s[i]!) <= threshold) continue;
      if (last >= 0 && i - last > min) out.push(((i - last) * 1000) / RATE);
      last = i;
    }
    return out;
  }

  /** Resolves when `check` returns something other than -1 (polled), or -1 after `timeoutMs`. */
  async waitFor(check: () => number, timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const found = check();
      if (found >= 0) return found;
      if (performance.now() - t0 > timeoutMs) return -1;
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
