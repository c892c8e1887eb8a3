/**
 * The far end on the mic's timeline: 16 kHz samples indexed by time (sample k = `origin` + k/16 ms,
 * on the performance.now() clock both ends are stamped with). The first chunk of a burst is placed
 * where its handover time says; the next ones follow it sample for sample (one device clock, no
 * holes), because acks come in with jitter (a 60 ms late ack followed by a quick one was recorded on
 * a loaded machine). A chunk later than that jitter may be a real pause (the queue ran dry and the
 * device played silence) or a late ack: it is written in sequence, and only if the chunks after it
 * stay late for 60 ms is the pause confirmed and the samples since moved to where they belong
 * (the echo of the last 60 ms has not reached the mic yet, so nothing has read them). Samples never
 * written, or older than the ring, read as 0.
 */
const RING = 1 << 15; // 2 s at 16 kHz
/** Acks up to this late (samples) are jitter. */
const JITTER = 480;
/** A pause is confirmed when the chunks stay late for this many samples. */
const CONFIRM = 960;

export class ReferenceTimeline {
  private readonly ring = new Float64Array(RING);
  /** Timeline index of the next sample to write; null before the first chunk. */
  private end: number | null = null;
  /** A suspected pause: where its first chunk was written, and the least lateness seen since. */
  private suspect: { from: number; late: number } | null = null;

  reset(): void {
    this.ring.fill(0);
    this.end = null;
    this.suspect = null;
  }

  /** Writes samples handed at timeline index `start`. */
  write(samples: ArrayLike<number>, start: number): void {
    if (this.end === null || start > this.end + RING / 2) {
      this.ring.fill(0);
      this.end = start;
      this.suspect = null;
    }
    const late = start - this.end;
    if (late > JITTER) {
      this.suspect = this.suspect ? { from: this.suspect.from, late: Math.min(this.suspect.late, late) } : { from: this.end, late };
    } else {
      this.suspect = null;
    }
    const at = this.end;
    for (let i = 0; i < samples.length; i += 1) this.ring[(at + i) & (RING - 1)] = samples[i]!;
    this.end = at + samples.length;
    if (this.suspect && this.end - this.suspect.from >= CONFIRM) this.confirmPause(this.suspect.from, this.suspect.late);
  }

  /** Moves the samples written since `from` later by `late`, leaving silence in the pause. */
  private confirmPause(from: number, late: number): void {
    const end = this.end!;
    for (let i = end - 1; i >= from; i -= 1) this.ring[(i + late) & (RING - 1)] = this.ring[i & (RING - 1)]!;
    for (let i = from; i < Math.min(from + late, end); i += 1) this.ring[i & (RING - 1)] = 0;
    this.end = end + late;
    this.suspect = null;
  }

  /** The sample at timeline index `index` (0 when not played, not yet written, or forgotten). */
  at(index: number): number {
    if (this.end === null || index >= this.end || index <= this.end - RING || index < 0) return 0;
    return this.ring[index & (RING - 1)]!;
  }

  /** The signal between samples (Catmull-Rom cubic): a reference read at a drifting position. */
  interpolated(position: number): number {
    const n = Math.floor(position);
    const f = position - n;
    if (f === 0) return this.at(n);
    const xm = this.at(n - 1);
    const x0 = this.at(n);
    const x1 = this.at(n + 1);
    const x2 = this.at(n + 2);
    const a1 = 0.5 * (x1 - xm);
    const a2 = xm - 2.5 * x0 + 2 * x1 - 0.5 * x2;
    const a3 = 0.5 * (x2 - xm) + 1.5 * (x0 - x1);
    return ((a3 * f + a2) * f + a1) * f + x0;
  }

  /** Pre-emphasised sample (x[n] − 0.9·x[n−1]), as the adaptive filter wants its reference. */
  emphasised(index: number): number {
    return this.at(index) - 0.9 * this.at(index - 1);
  }
}
