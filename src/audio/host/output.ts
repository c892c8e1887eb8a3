/**
 * One output stream inside the audio host: feeds naudiodon's queue (maxQueue 1) so that PortAudio's
 * callback (one period, 20 ms) finds reply audio, keeping as little as possible ahead of it.
 *
 * - Playing: each period is written as two half-period chunks, back to back. The second write waits
 *   until the callback takes the first, so at most one period (20 ms) of reply is ever ahead of the
 *   callback: that bounds what still plays after a flush.
 * - Idle: nothing is written. The callback waits inside naudiodon for the next chunk (PortAudio's own
 *   buffer plays out, then the device underruns into silence), so the first chunk of a reply is
 *   written through to the waiting callback at once, and an idle speaker costs no CPU. For BRIDGE_MS
 *   after reply audio, a callback left waiting a whole period gets silence instead, so a reply streamed
 *   just in time does not make the device underrun (and restart) between its deltas.
 * A write that waits for the callback resolves when the callback takes the chunk before it: that
 * tells when the last reply sample entered PortAudio after a flush.
 * Acks (one per period) and flushed records go through the host's outbox (./outbox.ts), which lets an
 * ack ride with the next mic chunk; each write's completion lets it send acks the mic left waiting.
 */
import { ByteQueue } from '../byte-queue.js';
import type { Outbox } from './outbox.js';
import { clockMs, encodeRecord, Kind } from './wire.js';

export type NativeStream = {
  start(): void;
  read(bytes: number): Promise<{ err?: unknown; finished?: boolean; buf?: Buffer }>;
  write(chunk: Buffer): Promise<unknown>;
  quit(mode: 'WAIT' | 'ABORT'): Promise<void>;
};

/** After the last reply audio, silence bridges this long before the stream is left to run dry. */
const BRIDGE_MS = 200;

/** A chunk handed to naudiodon and not yet seen taken by the callback. */
type Held = { epoch: number; audioBytes: number; offset: number; issuedAt: number };

export class OutputStream {
  private readonly native: NativeStream;
  private readonly id: number;
  private readonly outbox: Pick<Outbox, 'ack' | 'send' | 'tick'>;
  private readonly onError: (message: string) => void;
  private readonly periodBytes: number;
  private readonly firstHalf: number;
  private readonly bytesPerMs: number;
  private readonly periodMs: number;
  private readonly scratch: Buffer;
  private readonly queue = new ByteQueue();
  private readonly held: Held[] = [];
  private epoch = 0;
  /** Bytes written into the current period (0 or the first half). */
  private phase = 0;
  private inFlight = false;
  /** naudiodon's queue holds a chunk for the next callback: the next write waits for that callback. */
  private queueHeld = false;
  private lastAudioAt = -Infinity;
  /** When the queue ran dry (while bridging), else null. */
  private emptySince: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pendingFlush: { epoch: number; residue: number; last: Held } | null = null;
  /** Audio handed but not yet acked: one ack per period (both halves) halves the wakeups on both sides. */
  private unacked: { epoch: number; bytes: number; at: number } | null = null;
  private running = true;

  constructor(
    native: NativeStream,
    id: number,
    sampleRate: number,
    periodFrames: number,
    outbox: Pick<Outbox, 'ack' | 'send' | 'tick'>,
    onError: (message: string) => void,
  ) {
    this.native = native;
    this.id = id;
    this.outbox = outbox;
    this.onError = onError;
    this.periodBytes = periodFrames * 2;
    this.firstHalf = Math.floor(periodFrames / 2) * 2;
    this.bytesPerMs = (sampleRate * 2) / 1000;
    this.periodMs = this.periodBytes / this.bytesPerMs;
    this.scratch = Buffer.alloc(this.periodBytes);
  }

  write(epoch: number, pcm: Buffer): void {
    if (epoch !== this.epoch || !this.running) return;
    this.queue.push(pcm);
    this.pump();
  }

  flush(epoch: number): void {
    this.epoch = epoch;
    this.queue.clear();
    const old = this.held.filter((h) => h.audioBytes > 0);
    const residue = old.reduce((sum, h) => sum + h.audioBytes, 0);
    if (old.length === 0) this.outbox.send(encodeRecord(Kind.flushed, this.id, epoch, 0, 0));
    else this.pendingFlush = { epoch, residue, last: old.at(-1)! };
  }

  async close(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.queue.clear();
    // At most one period is in naudiodon's queue: WAIT returns within a period or two.
    await this.native.quit('WAIT');
  }

  private pump(): void {
    if (!this.running || this.inFlight) return;
    const now = clockMs();
    let chunk: Buffer;
    let audioBytes = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0 && this.phase === 0) {
      // Idle: write nothing, the callback waits for the reply. Just after audio, though, a reply that
      // arrives in real time may merely be late: once the callback has waited a period for it, bridge
      // with silence rather than let the device underrun (and restart) between deltas.
      if (now - this.lastAudioAt > BRIDGE_MS) return;
      this.emptySince ??= now;
      const wait = this.emptySince + this.periodMs - now;
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      chunk = this.scratch.subarray(0, this.periodBytes).fill(0);
    } else {
      this.emptySince = null;
      const size = this.phase === 0 ? this.firstHalf : this.periodBytes - this.firstHalf;
      // naudiodon copies the chunk inside write(): one scratch buffer serves every write.
      chunk = this.scratch.subarray(0, size);
      audioBytes = this.queue.takeInto(chunk);
      if (audioBytes < size) chunk.fill(0, audioBytes);
      if (audioBytes > 0) this.lastAudioAt = now;
    }
    const size = chunk.length;
    const item: Held = { epoch: this.epoch, audioBytes, offset: this.phase, issuedAt: now };
    const blocks = this.queueHeld;
    this.held.push(item);
    this.phase = (this.phase + size) % this.periodBytes;
    this.inFlight = true;
    this.native.write(chunk).then(
      (error) => this.written(item, blocks, error),
      (error: unknown) => this.written(item, blocks, error ?? 'write failed'),
    );
  }

  private written(item: Held, blocked: boolean, error: unknown): void {
    this.inFlight = false;
    if (!this.running) return;
    if (error) {
      this.running = false;
      this.onError(`speaker: ${String(error)}`);
      return;
    }
    const now = clockMs();
    const secondHalf = item.offset !== 0;
    // A write that waited resolves as the callback takes the chunk before it; a second half is taken
    // by the same callback right away. Either way the callback started now.
    if (blocked || secondHalf) {
      const index = this.held.indexOf(item);
      for (const taken of this.held.splice(0, secondHalf ? index + 1 : index)) this.taken(taken, now);
    }
    this.queueHeld = !secondHalf;
    this.outbox.tick();
    this.ack(item, secondHalf);
    this.pump();
  }

  /** Acks audio once per period (or at once when the epoch changes mid-period). */
  private ack(item: Held, periodDone: boolean): void {
    const pending = this.unacked;
    if (pending && pending.epoch !== item.epoch) {
      this.outbox.ack(encodeRecord(Kind.ack, this.id, pending.epoch, pending.bytes, pending.at));
      this.unacked = null;
    }
    if (item.audioBytes > 0) {
      if (this.unacked) this.unacked.bytes += item.audioBytes;
      else this.unacked = { epoch: item.epoch, bytes: item.audioBytes, at: item.issuedAt };
    }
    if (periodDone && this.unacked) {
      this.outbox.ack(encodeRecord(Kind.ack, this.id, this.unacked.epoch, this.unacked.bytes, this.unacked.at));
      this.unacked = null;
    }
  }

  /** A chunk entered PortAudio's buffer with the callback that started at `at`. */
  private taken(item: Held, at: number): void {
    const flush = this.pendingFlush;
    if (flush && item === flush.last) {
      this.pendingFlush = null;
      const silentAt = at + (item.offset + item.audioBytes) / this.bytesPerMs;
      this.outbox.send(encodeRecord(Kind.flushed, this.id, flush.epoch, flush.residue, silentAt));
    }
  }
}
