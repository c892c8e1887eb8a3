/**
 * What the audio host writes on the audio pipe, batched so that the parent wakes once per period
 * while it both plays and listens, not once for the playback ack and again for the mic chunk.
 *
 * A playback ack is held until the next mic chunk and goes out in the same write, ack first: the
 * parent learns what was handed to the speaker before it processes the mic frame that may hold its
 * echo (the echo canceller's reference). The ack carries its own timestamp, so holding it moves no
 * figure: what waits is only the parent's bookkeeping (what has played, when the queue ran dry),
 * by at most one mic period. While no mic is open, or the mic has not delivered for longer than
 * HOLD_MS, acks go out at once; acks already held go out with the next write of any kind, or on the
 * next output write that finds them older than HOLD_MS (`tick`; the speaker keeps writing for a
 * while after its last audio, see ./output.ts). Anything else (mic data, flushed) goes out at once.
 *
 * No timer: a timer re-armed per period would wake the host as often as the acks it saves.
 */
import { clockMs, encodeInto, HEADER_BYTES, Kind } from './wire.js';

/** A mic chunk is due every 20 ms; a held ack waits for it this long at most. */
export const HOLD_MS = 30;

export class Outbox {
  private readonly write: (bytes: Buffer) => void;
  private readonly now: () => number;
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private heldSince = 0;
  private lastInputAt = Number.NEGATIVE_INFINITY;
  private inputs = 0;

  constructor(write: (bytes: Buffer) => void, now: () => number = clockMs) {
    this.write = write;
    this.now = now;
  }

  inputOpened(): void {
    this.inputs += 1;
  }

  inputClosed(): void {
    this.inputs = Math.max(0, this.inputs - 1);
    if (this.inputs === 0) this.release();
  }

  /** One mic chunk, read at `time`: out at once, behind the held acks, in one write. */
  input(stream: number, time: number, payload: Buffer): void {
    this.lastInputAt = this.now();
    const out = Buffer.allocUnsafe(this.heldBytes + HEADER_BYTES + payload.length);
    let offset = 0;
    for (const record of this.held) offset += record.copy(out, offset);
    this.clearHeld();
    encodeInto(out, offset, Kind.data, stream, 0, 0, time, payload);
    this.write(out);
  }

  /** A playback ack: held for the next mic chunk while the mic delivers, else out at once. */
  ack(record: Buffer): void {
    const now = this.now();
    if (this.inputs === 0 || now - this.lastInputAt > HOLD_MS) {
      this.send(record);
      return;
    }
    if (this.held.length === 0) this.heldSince = now;
    this.held.push(record);
    this.heldBytes += record.length;
  }

  /** A record that must not wait (e.g. flushed): out at once, behind the held acks. */
  send(record: Buffer): void {
    if (this.held.length === 0) {
      this.write(record);
      return;
    }
    this.held.push(record);
    const out = Buffer.concat(this.held, this.heldBytes + record.length);
    this.clearHeld();
    this.write(out);
  }

  /** On each output write: acks held longer than HOLD_MS (the mic stopped delivering) go out. */
  tick(): void {
    if (this.held.length > 0 && this.now() - this.heldSince > HOLD_MS) this.release();
  }

  private release(): void {
    if (this.held.length === 0) return;
    const out = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    this.clearHeld();
    this.write(out);
  }

  private clearHeld(): void {
    this.held.length = 0;
    this.heldBytes = 0;
  }
}
