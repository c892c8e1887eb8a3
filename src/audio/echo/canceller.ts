/**
 * The acoustic echo canceller (issue 15): pure (frames in, frames out, no I/O, no timers), so the
 * shell can put it in the mic path and tests can run it offline on recorded loopback audio.
 *
 * The far end is what was handed to PortAudio, stamped with when; mic frames are stamped with when
 * they were captured. Both are placed on one 16 kHz timeline (./reference-timeline.ts); GCC-PHAT
 * (./delay-estimator.ts) finds the echo path's bulk delay on it and follows its jumps, and the slope
 * of its estimates gives the drift between the two device clocks; the reference, read that delay
 * earlier (less 10 ms of headroom, plus the drift so far, interpolated), feeds Speex's MDF adaptive filter
 * (./mdf.ts, 120 ms of room tail), and a residual echo suppressor (./residual-suppressor.ts) takes
 * out what the linear filter leaves. Blocks are 10 ms: 20/30/40 ms frames come back with no added
 * latency (other lengths wait for one block).
 */
import { DEFAULTS } from '../../defaults.js';
import { DelayEstimator } from './delay-estimator.js';
import { Mdf } from './mdf.js';
import { ReferenceTimeline } from './reference-timeline.js';
import { ResidualSuppressor } from './residual-suppressor.js';
import { SincResampler } from './sinc-resampler.js';

export type EchoStats = { erleDb: number; delayMs: number | null; doubleTalk: boolean; converged: boolean };
export type EchoCanceller = {
  /** Far end: exactly what was handed to PortAudio (PCM16 mono at `sampleRate`, any rate; resample inside), `at` = performance.now() when handed. */
  playback(pcm: Buffer, at: number, sampleRate: number): void;
  /** Near end: one mic frame (16 kHz mono PCM16), `at` = performance.now() when captured. Returns the cleaned frame, same length. */
  process(pcm: Buffer, at: number): Buffer;
  stats(): EchoStats;
  reset(): void;
};

const RATE = 16000;
const PER_MS = RATE / 1000;
const BLOCK = 160;
const TAIL_MS = 120;
const HEADROOM = 160;
/**
 * Mic frames follow each other sample for sample (the device's clock); their stamps jitter by up to
 * ±60 ms on a loaded machine (measured on the fixtures), so only a frame this far (samples) from where
 * the previous one ended (a stall, a suspend) restarts the mic's timeline.
 */
const MIC_JUMP = 3200;
/** ERLE averaging (per block): about half a second. */
const ERLE_SMOOTH = 0.02;
/** Far-end echo estimate energy per block below which ERLE is not measured (≈ −60 dBFS). */
const FAR_ACTIVE = BLOCK * 33 * 33;
const CONVERGED_DB = 20;
/**
 * Converged means: this reply's own ERLE, per 10 ms block in dB (clamped to 0…40, so one loud onset
 * or one perfect block weighs little), averaged over ≈ 100 ms of echo, is ≥ CONVERGED_DB. A figure
 * on energies, or one carried over from the last reply (ended by a user talking over it), took ~1 s
 * to climb back while the filter already cancelled 40 dB from the reply's first 100 ms, so a user 1.2 s
 * into a reply was not heard in time (recorded live: 14 of 18 barge-ins).
 */
const REPLY_SMOOTH = 0.1;
const REPLY_MIN_BLOCKS = 5;
const REPLY_CLAMP_DB = 40;
/** Mic blocks quieter than ≈ −50 dBFS (energy per block) say nothing of the filter. */
const REPLY_MIC_MIN = BLOCK * 104 * 104;
/** Linear-filter tracking figure smoothing (per block, ≈ 50 ms). */
const LIN_SMOOTH = 0.2;
/** A delay move beyond this (samples, 4 ms) is realigned even while the filter keeps up. */
const DRIFT_LIMIT = 64;
/** …and beyond this (1.5 ms: the estimate's own granularity is 1 ms) when it does not. */
const JUMP_LIMIT = 24;
/** Linear-filter mic/error power ratio (≈ 15 dB) above which the weights are checkpointed. */
const CHECKPOINT_LIN = 31.6;
/** A pause this long (ms) in the far end starts a new reply. */
const REPLY_GAP_MS = 300;

export type EchoCancellerOptions = {
  frameMs?: number;
  maxDelayMs?: number;
  /** Residual echo suppression (default on); off to measure the linear filter alone. */
  suppression?: boolean;
};

export function createEchoCanceller(options: EchoCancellerOptions = {}): EchoCanceller {
  return new Canceller(options.frameMs ?? DEFAULTS.frameMs, options.maxDelayMs ?? 500, options.suppression ?? true);
}

class Canceller implements EchoCanceller {
  private readonly timeline = new ReferenceTimeline();
  private readonly mdf = new Mdf(BLOCK, Math.ceil((TAIL_MS * PER_MS) / BLOCK));
  private readonly estimator: DelayEstimator;
  private readonly suppressor = new ResidualSuppressor();
  private readonly frameMs: number;
  private resampler: SincResampler | null = null;
  private origin: number | null = null;
  /** Timeline index of the first sample in `pending`. */
  private blockStart: number | null = null;
  private pending = new Float64Array(BLOCK);
  private pendingLen = 0;
  /** Cleaned samples not yet returned (a FIFO: start, length). */
  private output = new Int16Array(4 * BLOCK);
  private outStart = 0;
  private outLen = 0;
  private readonly far = new Float64Array(BLOCK);
  private readonly refRaw = new Float64Array(BLOCK);
  private readonly out = new Float64Array(BLOCK);
  /** Bulk delay applied to the reference (samples), once the estimator has found one. */
  private shift: number | null = null;
  private micPower = 0;
  private outPower = 0;
  private erle = 0;
  /** This reply's ERLE (dB, see REPLY_SMOOTH) and how many blocks it has measured. */
  private replyErle = 0;
  private replyBlocks = 0;
  private quietBlocks = 0;
  /** Extra delay accumulated by clock drift since the last realignment (samples, fractional). */
  private drift = 0;
  /** Short-term mic and linear-filter error power (far end active): is the filter keeping up? */
  private linMic = 0;
  private linErr = 0;

  private readonly suppress: boolean;
  /** Blocks in which the filter cancelled well (checkpoints every 8th). */
  private goodBlocks = 0;
  /** performance.now() of the last far-end chunk. */
  private lastPlayAt = Number.NEGATIVE_INFINITY;
  /** A new reply has started and the filter has not yet been seen tracking it. */
  private relocking = false;

  constructor(frameMs: number, maxDelayMs: number, suppress: boolean) {
    this.frameMs = frameMs;
    this.suppress = suppress;
    this.estimator = new DelayEstimator(maxDelayMs);
    this.initOutput();
  }

  private initOutput(): void {
    // Frames that are not whole blocks wait for one block (zeros first), so output keeps pace.
    const frame = Math.round(this.frameMs * PER_MS);
    this.output.fill(0);
    this.outStart = 0;
    this.outLen = frame % BLOCK === 0 ? 0 : BLOCK;
  }

  private index(at: number): number {
    this.origin ??= at - 1000;
    return Math.round((at - this.origin) * PER_MS);
  }

  playback(pcm: Buffer, at: number, sampleRate: number): void {
    const count = pcm.length >> 1;
    if (count === 0) return;
    // A view when the buffer is aligned (the usual case); a slice of a larger buffer may not be.
    const samples = pcm.byteOffset % 2 === 0 ? new Int16Array(pcm.buffer, pcm.byteOffset, count) : Int16Array.from({ length: count }, (_, i) => pcm.readInt16LE(i * 2));
    const start = this.index(at);
    // A new reply after a pause: its first chunk may play a period earlier or later than the last
    // reply's did (the device's buffer state), so the delay may have jumped. Measure afresh.
    if (at - this.lastPlayAt > REPLY_GAP_MS) this.newReply();
    this.lastPlayAt = Math.max(this.lastPlayAt, at);
    let resampled: ArrayLike<number> = samples;
    if (sampleRate !== RATE) {
      // One resampler for the whole session (a constant delay, no sample ever dropped); a new one only
      // if the rate changes.
      if (!this.resampler || this.resampler.inRate !== sampleRate) this.resampler = new SincResampler(sampleRate, RATE);
      resampled = this.resampler.process(samples);
    }
    this.timeline.write(resampled, start);
  }

  process(pcm: Buffer, at: number): Buffer {
    const count = pcm.length >> 1;
    const start = this.index(at) - count;
    const expected = this.blockStart === null ? null : this.blockStart + this.pendingLen;
    if (expected === null || Math.abs(start - expected) > MIC_JUMP) this.blockStart = start - this.pendingLen;
    for (let i = 0; i < count; i += 1) {
      this.pending[this.pendingLen] = pcm.readInt16LE(i * 2);
      this.pendingLen += 1;
      if (this.pendingLen === BLOCK) {
        this.block();
        this.pendingLen = 0;
        this.blockStart! += BLOCK;
      }
    }
    const result = Buffer.alloc(count * 2);
    const ready = Math.min(count, this.outLen);
    const pad = count - ready;
    const size = this.output.length;
    for (let i = 0; i < ready; i += 1) result.writeInt16LE(this.output[(this.outStart + i) % size]!, (pad + i) * 2);
    this.outStart = (this.outStart + ready) % size;
    this.outLen -= ready;
    return result;
  }

  private block(): void {
    const start = this.blockStart!;
    const { timeline, far, refRaw, out, pending } = this;
    for (let i = 0; i < BLOCK; i += 1) refRaw[i] = timeline.at(start + i);
    const clearBefore = this.estimator.clearCount;
    const moved = this.estimator.push(pending, refRaw, this.shift !== null && this.erle >= CONVERGED_DB);
    // Early in a reply, the first clear peak is taken as it is (a sub-millisecond move matters to the filter).
    const fresh = this.relocking && this.estimator.clearCount > clearBefore;
    const estimate = fresh ? this.estimator.latestMs : this.estimator.delayMs;
    if (estimate !== null) {
      const target = Math.max(0, Math.round(estimate * PER_MS) - HEADROOM);
      // A small move while the filter keeps cancelling is drift it is already following: shifting the
      // reference under it would throw that away. A jump shows as the filter failing: realign then.
      const tracking = this.linMic > 10 * this.linErr;
      const applied = this.shift === null ? 0 : this.shift + Math.round(this.drift);
      const off = Math.abs(target - applied);
      // Early in a reply, any move the estimator reports is taken while the filter is failing: the
      // filter is useless even a few samples off, and its checkpointed weights are worth restoring.
      const limit = tracking ? DRIFT_LIMIT : (this.relocking && moved) || fresh ? 0 : JUMP_LIMIT;
      if (this.shift === null || off > limit) this.realign(start, target, tracking);
      // One look per reply: later estimates move the filter only by the usual rules.
      if (tracking || fresh) this.relocking = false;
    }
    let micEnergy = 0;
    let outEnergy = 0;
    let farActive = false;
    let farEnergy = 0;
    if (this.shift !== null) {
      // Clock drift: the delay grows (or shrinks) steadily; read the reference that much further back.
      this.drift += this.estimator.drift() * BLOCK;
      const base = start - this.shift - this.drift;
      let previous = timeline.interpolated(base - 1);
      for (let i = 0; i < BLOCK; i += 1) {
        const current = timeline.interpolated(base + i);
        far[i] = current - 0.9 * previous;
        previous = current;
        farEnergy += far[i]! * far[i]!;
      }
    }
    // Nothing played for longer than the filter reaches back: no echo possible, skip the filter
    // (its history is all zeros by then; half of a conversation costs nothing).
    this.quietBlocks = farEnergy === 0 ? this.quietBlocks + 1 : 0;
    if (this.shift === null) {
      out.set(pending);
    } else if (this.quietBlocks > this.mdf.partitions + 2) {
      this.mdf.bypass(pending, out);
    } else {
      const r = this.mdf.process(pending, far, out);
      if (this.suppress) this.suppressor.apply(out, r.sff, r.syy, r.leak, r.sdd);
      farActive = r.syy > FAR_ACTIVE;
      if (farActive) {
        this.linMic += LIN_SMOOTH * (r.sdd - this.linMic);
        this.linErr += LIN_SMOOTH * (r.sff - this.linErr);
        // A filter that cancels well is remembered: after a jump it is the best start at the new delay.
        if (this.linMic > CHECKPOINT_LIN * this.linErr && this.erle >= CONVERGED_DB && ++this.goodBlocks % 8 === 0) this.mdf.checkpoint();
      }
    }
    for (let i = 0; i < BLOCK; i += 1) {
      const v = Math.max(-32768, Math.min(32767, Math.round(out[i]!)));
      this.pushOutput(v);
      micEnergy += pending[i]! * pending[i]!;
      outEnergy += v * v;
    }
    if (farActive && !this.suppressor.doubleTalk) {
      this.micPower += ERLE_SMOOTH * (micEnergy - this.micPower);
      this.outPower += ERLE_SMOOTH * (outEnergy - this.outPower);
      this.erle = 10 * Math.log10((this.micPower + 1) / (this.outPower + 1));
      if (micEnergy >= REPLY_MIC_MIN) {
        this.replyBlocks += 1;
        const blockDb = Math.min(REPLY_CLAMP_DB, Math.max(0, 10 * Math.log10((micEnergy + 1) / (outEnergy + 1))));
        this.replyErle += Math.max(REPLY_SMOOTH, 1 / this.replyBlocks) * (blockDb - this.replyErle);
      }
    }
  }

  /**
   * A new reply: the delay is searched without the old reply's cross-spectra, and the reply earns
   * `converged` on its own blocks (the slow ERLE figure, which locks the estimator and checkpoints the
   * weights, is kept).
   */
  private newReply(): void {
    this.estimator.restart();
    this.relocking = true;
    this.replyErle = this.replyBlocks = 0;
  }

  private pushOutput(v: number): void {
    if (this.outLen === this.output.length) {
      // Frames longer than the FIFO: grow it, oldest first.
      const grown = new Int16Array(this.output.length * 2);
      for (let i = 0; i < this.outLen; i += 1) grown[i] = this.output[(this.outStart + i) % this.output.length]!;
      this.output = grown;
      this.outStart = 0;
    }
    this.output[(this.outStart + this.outLen) % this.output.length] = v;
    this.outLen += 1;
  }

  /** The estimator moved the delay: shift the reference, keep the weights (unless it is the first lock or a big move). */
  private realign(start: number, shift: number, tracking = true): void {
    if (this.shift === null || Math.abs(shift - this.shift) > (TAIL_MS * PER_MS) / 2) {
      this.mdf.reset();
      this.suppressor.reset();
    }
    // A jump found while the filter was failing: it has been adapting to a misaligned reference since,
    // so the weights it had when it last cancelled well serve better (the room is the same).
    if (this.shift !== null && !tracking) this.mdf.restore();
    this.shift = shift;
    this.drift = 0;
    const last = start - 1 - shift;
    this.mdf.realign((k) => this.timeline.emphasised(last - k));
  }

  stats(): EchoStats {
    const delayMs = this.estimator.delayMs;
    return {
      erleDb: Math.round(this.erle * 10) / 10,
      delayMs: delayMs === null ? null : Math.round(delayMs * 10) / 10,
      doubleTalk: this.suppressor.doubleTalk,
      converged: this.shift !== null && this.replyBlocks >= REPLY_MIN_BLOCKS && this.replyErle >= CONVERGED_DB,
    };
  }

  reset(): void {
    this.timeline.reset();
    this.mdf.reset();
    this.mdf.forget();
    this.estimator.reset();
    this.suppressor.reset();
    this.resampler = null;
    this.origin = null;
    this.blockStart = null;
    this.pendingLen = 0;
    this.shift = null;
    this.drift = 0;
    this.micPower = this.outPower = this.erle = this.replyErle = this.replyBlocks = this.quietBlocks = this.linMic = this.linErr = this.goodBlocks = 0;
    this.lastPlayAt = Number.NEGATIVE_INFINITY;
    this.relocking = false;
    this.initOutput();
  }
}
