/**
 * Bulk echo-path delay by GCC-PHAT: the mic and the timestamp-aligned reference, both decimated to
 * 4 kHz, are cross-correlated over 512 ms windows every 128 ms against the reference up to
 * `maxDelayMs` earlier; the cross-spectra are averaged over windows where both ends are active, then
 * phase-normalised (PHAT), so the peak is sharp whatever the speech's spectrum. A peak is accepted
 * only when it stands out (normalised height and ratio to the best peak elsewhere); a new delay
 * replaces the current one when two estimates in a row agree or one is strong, so a weak window moves nothing.
 */
import { RealFft } from './fft.js';

const DECIMATE = 4;
const RATE = 16000 / DECIMATE;
const WINDOW = 2048; // 512 ms at 4 kHz
const HOP = 512; // 128 ms
/** Minimum mean square (16-bit scale) of a decimated window to count as active. */
const ACTIVE = 100 * 100;
const MIN_PEAK = 0.06;
const MIN_RATIO = 1.6;
/** A peak this high is trusted at once (a jump of the path must not wait for a second window). */
const STRONG = 0.5;
/** Two estimates within this many ms agree. */
const AGREE_MS = 1;
/** An estimate this far (ms) from the drift line is a jump: the drift is measured anew. */
const JUMP_MS = 0.5;
/** Two device clocks never differ by more than this (1000 ppm). */
const MAX_DRIFT = 1e-3;

export class DelayEstimator {
  private readonly maxLag: number;
  private readonly fft: RealFft;
  private readonly span: number;
  /** Decimated mic and reference histories (ring-free: shifted by HOP after each estimate). */
  private readonly mic: Float64Array;
  private readonly ref: Float64Array;
  private filled = 0;
  private micAcc = 0;
  private refAcc = 0;
  private accCount = 0;
  private readonly gr: Float64Array;
  private readonly gi: Float64Array;
  private readonly ar: Float64Array;
  private readonly ai: Float64Array;
  private readonly br: Float64Array;
  private readonly bi: Float64Array;
  private readonly buf: Float64Array;
  private readonly corr: Float64Array;
  private windows = 0;
  private hops = 0;
  /** Consecutive estimates that agree with each other but not with the current delay. */
  private streak: { delayMs: number; clear: boolean }[] = [];
  /** Current delay (ms) and its last peak quality. */
  delayMs: number | null = null;
  quality = 0;
  /** The last clear peak's delay (ms, sub-sample precise) and how many clear peaks there have been. */
  latestMs: number | null = null;
  clearCount = 0;

  constructor(maxDelayMs: number) {
    this.maxLag = Math.ceil((maxDelayMs * RATE) / 1000);
    this.span = WINDOW + this.maxLag;
    const size = 1 << Math.ceil(Math.log2(this.span + 1));
    this.fft = new RealFft(size);
    this.mic = new Float64Array(this.span);
    this.ref = new Float64Array(this.span);
    const b = this.fft.bins;
    this.gr = new Float64Array(b);
    this.gi = new Float64Array(b);
    this.ar = new Float64Array(b);
    this.ai = new Float64Array(b);
    this.br = new Float64Array(b);
    this.bi = new Float64Array(b);
    this.buf = new Float64Array(size);
    this.corr = new Float64Array(size);
  }

  reset(): void {
    this.mic.fill(0);
    this.ref.fill(0);
    this.gr.fill(0);
    this.gi.fill(0);
    this.filled = this.micAcc = this.refAcc = this.accCount = this.windows = 0;
    this.streak = [];
    this.delayMs = null;
    this.quality = 0;
    this.track = [];
    this.pushed = 0;
  }

  /** Forgets the averaged cross-spectra (not the delay, nor the drift): a new reply's peak stands alone. */
  restart(): void {
    this.gr.fill(0);
    this.gi.fill(0);
    this.windows = 0;
    this.streak = [];
  }

  /** Recent precise estimates (mic sample count, delay in ms) since the last jump: the drift's slope. */
  private track: { t: number; d: number }[] = [];
  private pushed = 0;

  private follow(delayMs: number): void {
    const last = this.track.at(-1);
    const predicted = last === undefined ? delayMs : last.d + this.drift() * ((this.pushed - last.t) / 16);
    if (Math.abs(delayMs - predicted) > JUMP_MS) this.track = [];
    this.track.push({ t: this.pushed, d: delayMs });
    if (this.track.length > 32) this.track.shift();
  }

  /**
   * The echo path's drift: how much the delay grows per sample of mic (ratio, e.g. 2e-4 = 200 ppm),
   * from a least-squares line through the estimates of the last seconds; 0 until there are enough.
   */
  drift(): number {
    const n = this.track.length;
    if (n < 6 || this.track[n - 1]!.t - this.track[0]!.t < 1.5 * 16000) return 0;
    let st = 0;
    let sd = 0;
    for (const p of this.track) {
      st += p.t;
      sd += p.d;
    }
    const mt = st / n;
    const md = sd / n;
    let num = 0;
    let den = 0;
    for (const p of this.track) {
      num += (p.t - mt) * (p.d - md);
      den += (p.t - mt) ** 2;
    }
    // ms per mic sample → samples per sample.
    const ratio = den > 0 ? (num / den) * 16 : 0;
    return Math.max(-MAX_DRIFT, Math.min(MAX_DRIFT, ratio));
  }

  /**
   * Mic and reference samples at the same timeline positions (16 kHz). Returns true when the delay
   * changed. `relaxed`: the canceller is doing well, so one window in 4 is enough (CPU).
   */
  push(mic: ArrayLike<number>, ref: ArrayLike<number>, relaxed = false): boolean {
    let changed = false;
    this.pushed += mic.length;
    for (let i = 0; i < mic.length; i += 1) {
      this.micAcc += mic[i]!;
      this.refAcc += ref[i]!;
      this.accCount += 1;
      if (this.accCount < DECIMATE) continue;
      this.mic[this.filled] = this.micAcc / DECIMATE;
      this.ref[this.filled] = this.refAcc / DECIMATE;
      this.micAcc = this.refAcc = this.accCount = 0;
      this.filled += 1;
      if (this.filled === this.span) {
        this.hops += 1;
        if (!relaxed || this.hops % 4 === 0) changed = this.estimate() || changed;
        this.mic.copyWithin(0, HOP);
        this.ref.copyWithin(0, HOP);
        this.filled -= HOP;
      }
    }
    return changed;
  }

  private estimate(): boolean {
    const { span, maxLag, buf } = this;
    // The mic window is the last WINDOW samples; the reference span covers it and maxLag before.
    let micPower = 0;
    let refPower = 0;
    for (let i = span - WINDOW; i < span; i += 1) micPower += this.mic[i]! * this.mic[i]!;
    for (let i = 0; i < span; i += 1) refPower += this.ref[i]! * this.ref[i]!;
    if (micPower / WINDOW < ACTIVE || refPower / span < ACTIVE) return false;
    buf.fill(0);
    buf.set(this.mic.subarray(span - WINDOW));
    this.fft.forward(buf, this.ar, this.ai);
    buf.fill(0);
    buf.set(this.ref);
    this.fft.forward(buf, this.br, this.bi);
    const smooth = this.windows === 0 ? 1 : 0.5;
    this.windows += 1;
    for (let k = 0; k < this.fft.bins; k += 1) {
      // conj(MIC)·REF, normalised per window so loud windows do not dominate.
      const cr = this.ar[k]! * this.br[k]! + this.ai[k]! * this.bi[k]!;
      const ci = this.ar[k]! * this.bi[k]! - this.ai[k]! * this.br[k]!;
      const mag = Math.sqrt(cr * cr + ci * ci) + 1e-12;
      this.gr[k] = (1 - smooth) * this.gr[k]! + (smooth * cr) / mag;
      this.gi[k] = (1 - smooth) * this.gi[k]! + (smooth * ci) / mag;
    }
    // Back to lags: corr[m] = Σ mic[n]·ref[n + m], delay = maxLag − m. The average of phase-only
    // spectra is not normalised again: a bin whose phase is consistent from window to window (the
    // echo) keeps its weight, one whose phase wanders (noise, a harmonic voice's empty bins) fades.
    this.ar.set(this.gr);
    this.ai.set(this.gi);
    this.fft.inverse(this.ar, this.ai, this.corr);
    let best = 0;
    let bestM = -1;
    for (let m = 0; m <= maxLag; m += 1) {
      if (this.corr[m]! > best) {
        best = this.corr[m]!;
        bestM = m;
      }
    }
    if (bestM < 0) return false;
    let second = 0;
    const guard = Math.round(RATE * 0.004);
    for (let m = 0; m <= maxLag; m += 1) if (Math.abs(m - bestM) > guard && this.corr[m]! > second) second = this.corr[m]!;
    const peak = best / this.fft.bins;
    this.quality = peak;
    if (peak < MIN_PEAK) {
      this.streak = [];
      return false;
    }
    // A clear peak stands out from everything more than 4 ms away. A harmonic voice (the simulator's)
    // has near-equal peaks one pitch period apart; its pitch moves, so the echo's peak is the one
    // that stays put: three windows in a row that agree count as much as two clear ones.
    const clear = best >= MIN_RATIO * second;
    // Parabolic interpolation around the peak for sub-sample precision.
    let frac = 0;
    if (bestM > 0 && bestM < maxLag) {
      const a = this.corr[bestM - 1]!;
      const c = this.corr[bestM + 1]!;
      const den = a - 2 * best + c;
      if (den < 0) frac = (0.5 * (a - c)) / den;
    }
    const delayMs = ((maxLag - (bestM + frac)) * 1000) / RATE;
    if (clear) {
      this.follow(delayMs);
      this.latestMs = delayMs;
      this.clearCount += 1;
    }
    const agrees = (a: number | null | undefined): boolean => a !== null && a !== undefined && Math.abs(a - delayMs) <= AGREE_MS;
    if (agrees(this.delayMs)) {
      this.streak = [];
      return false;
    }
    if (!agrees(this.streak.at(-1)?.delayMs)) this.streak = [];
    this.streak.push({ delayMs, clear });
    const clearOnes = this.streak.filter((e) => e.clear).length;
    if ((clear && peak > STRONG) || clearOnes >= 2 || this.streak.length >= 3) {
      this.delayMs = delayMs;
      this.streak = [];
      return true;
    }
    return false;
  }
}
