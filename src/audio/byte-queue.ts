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
