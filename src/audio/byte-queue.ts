/**
 * A FIFO of byte chunks read in sizes of our choosing: "take N bytes from a queue of buffers", once.
 * Pushed buffers are kept by reference (never copied on push); reads return views where they can.
 */
export class ByteQueue {
  private parts: Buffer[] = [];
  private head = 0;
  private bytes = 0;

  /** Bytes queued. */
  get length(): number {
    return this.bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.bytes += chunk.length;
  }

  /** Removes and returns up to `n` bytes: a view when they lie in one chunk, else a copy. */
  take(n: number): Buffer {
    const want = Math.min(n, this.bytes);
    if (want === 0) return Buffer.alloc(0);
    const first = this.parts[this.head]!;
    if (first.length >= want) return this.consume(first, want);
    const out = Buffer.allocUnsafe(want);
    this.takeInto(out, 0);
    return out;
  }

  /** Copies up to `target.length - offset` bytes into `target` at `offset`; returns how many were copied. */
  takeInto(target: Buffer, offset = 0): number {
    let filled = offset;
    while (filled < target.length && this.bytes > 0) {
      const first = this.parts[this.head]!;
      const n = Math.min(first.length, target.length - filled);
      first.copy(target, filled, 0, n);
      this.consume(first, n);
      filled += n;
    }
    return filled - offset;
  }

  /** Drops everything; returns the bytes dropped. */
  clear(): number {
    const dropped = this.bytes;
    this.parts = [];
    this.head = 0;
    this.bytes = 0;
    return dropped;
  }

  private consume(first: Buffer, n: number): Buffer {
    this.bytes -= n;
    if (n < first.length) {
      this.parts[this.head] = first.subarray(n);
      return first.subarray(0, n);
    }
    this.head += 1;
    // Compact now and then instead of shifting on every read.
    if (this.head === this.parts.length) {
      this.parts = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.parts.length) {
      this.parts = this.parts.slice(this.head);
      this.head = 0;
    }
    return first;
  }
}

/** At most this much audio waits to be played (issue 13): a server sending faster than real time cannot grow memory. */
export const MAX_QUEUE_MS = 120_000;

/**
 * The cap on a playback queue: what does not fit is dropped (the newest audio: what already waits
 * plays on uninterrupted), with one warning per episode (until the queue runs dry or is flushed).
 */
export class PlaybackCap {
  private readonly maxBytes: number;
  private readonly maxMs: number;
  private dropping = false;

  constructor(maxMs: number, bytesPerMs: number) {
    this.maxMs = maxMs;
    this.maxBytes = Math.floor(maxMs * bytesPerMs) & ~1;
  }

  /** The part of `pcm` that fits behind `queued` bytes (whole samples); `warn` is called once per episode. */
  fit(queued: number, pcm: Buffer, warn: ((message: string) => void) | undefined): Buffer {
    const room = Math.max(0, this.maxBytes - queued);
    if (pcm.length <= room) return pcm;
    if (!this.dropping) {
      this.dropping = true;
      warn?.(`more than ${Math.round(this.maxMs / 1000)} s of audio is waiting to play (the server sends faster than real time): dropping what does not fit`);
    }
    return pcm.subarray(0, room & ~1);
  }

  /** The queue ran dry or was flushed: the next overflow is a new episode. */
  reset(): void {
    this.dropping = false;
  }
}
