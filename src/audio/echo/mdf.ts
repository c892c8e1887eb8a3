/**
 * The adaptive filter: a port of Speex's MDF echo canceller (libspeexdsp/mdf.c, float build, one
 * channel) — a partitioned-block frequency-domain adaptive filter, AUMDF variant (partition 0 plus
 * one rotating partition constrained per block), with Valin's (2007) learning rate from the residual
 * echo estimate (which is what keeps it from diverging during double talk), the leak estimate, the
 * two-path foreground/background filters and the saturation and "screwed up" guards.
 *
 * Differences from Speex: a radix-2 FFT, N = 512 ≥ 2·F for F = 160 (10 ms at 16 kHz: 20/30/40 ms
 * frames split into whole blocks, no added latency); each partition still covers F taps (only the
 * zero padding is longer; the step is scaled by N/2F). The caller aligns the reference (bulk delay). */
import { RealFft } from './fft.js';
import { LearningRate } from './learning-rate.js';

const PREEMPH = 0.9;
const NOTCH_RADIUS = 0.982;
const VAR1_SMOOTH = 0.36;
const VAR2_SMOOTH = 0.7225;
const VAR1_UPDATE = 0.5;
const VAR2_UPDATE = 0.25;
const VAR_BACKTRACK = 4;

export type BlockResult = {
  /** Energies of this block (pre-emphasised domain): mic, foreground error, foreground echo estimate, far end. */
  sdd: number;
  sff: number;
  syy: number;
  sxx: number;
  /** Residual echo leak estimate (ratio of residual echo power to echo estimate power). */
  leak: number;
  adapted: boolean;
};

export class Mdf {
  readonly frame: number;
  readonly partitions: number;
  private readonly n: number;
  private readonly bins: number;
  private readonly fft: RealFft;
  /** Speex's N (2F): the constants below are relative to it. */
  private readonly nSpeex: number;
  private readonly stepScale: number;
  /** X history: M+1 spectra, ring-indexed; X[head] is the newest. */
  private readonly xr: Float64Array;
  private readonly xi: Float64Array;
  private head = 0;
  private readonly wr: Float64Array;
  private readonly wi: Float64Array;
  private readonly fr: Float64Array;
  private readonly fi: Float64Array;
  private readonly x: Float64Array;
  private readonly input: Float64Array;
  private readonly er: Float64Array;
  private readonly ei: Float64Array;
  private readonly yr: Float64Array;
  private readonly yi: Float64Array;
  private readonly tmp: Float64Array;
  private readonly yFg: Float64Array;
  private readonly yBg: Float64Array;
  private readonly eBg: Float64Array;
  private readonly window: Float64Array;
  private readonly rf: Float64Array;
  private readonly yf: Float64Array;
  private readonly prop: Float64Array;
  private readonly rate: LearningRate;
  private notch0 = 0;
  private notch1 = 0;
  private memD = 0;
  private memE = 0;
  private cancelCount = 0;
  private saturated = 0;
  private screwedUp = 0;
  private davg1 = 0;
  private davg2 = 0;
  private dvar1 = 0;
  private dvar2 = 0;
  /** Whether E holds a previous block's error (no gradient step on the very first block). */
  private haveError = false;

  constructor(frame: number, partitions: number) {
    this.frame = frame;
    this.partitions = partitions;
    this.n = 1 << Math.ceil(Math.log2(2 * frame));
    this.nSpeex = 2 * frame;
    this.stepScale = this.n / this.nSpeex;
    this.fft = new RealFft(this.n);
    this.bins = this.fft.bins;
    const m = partitions;
    const b = this.bins;
    this.xr = new Float64Array((m + 1) * b);
    this.xi = new Float64Array((m + 1) * b);
    this.wr = new Float64Array(m * b);
    this.wi = new Float64Array(m * b);
    this.fr = new Float64Array(m * b);
    this.fi = new Float64Array(m * b);
    this.x = new Float64Array(this.n);
    this.input = new Float64Array(frame);
    this.er = new Float64Array(b);
    this.ei = new Float64Array(b);
    this.yr = new Float64Array(b);
    this.yi = new Float64Array(b);
    this.tmp = new Float64Array(this.n);
    this.yFg = new Float64Array(frame);
    this.yBg = new Float64Array(frame);
    this.eBg = new Float64Array(frame);
    this.window = new Float64Array(2 * frame);
    for (let i = 0; i < 2 * frame; i += 1) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (2 * frame));
    this.rf = new Float64Array(b);
    this.yf = new Float64Array(b);
    this.prop = new Float64Array(m);
    this.rate = new LearningRate(b, frame, m);
    this.accR = new Float64Array(b);
    this.accI = new Float64Array(b);
    this.reset();
  }

  reset(): void {
    for (const a of [this.xr, this.xi, this.wr, this.wi, this.fr, this.fi, this.x, this.er, this.ei]) a.fill(0);
    this.rate.reset();
    this.prop.fill(0.8 / this.partitions);
    this.notch0 = this.notch1 = this.memD = this.memE = 0;
    this.cancelCount = this.saturated = this.screwedUp = 0;
    this.davg1 = this.davg2 = this.dvar1 = this.dvar2 = 0;
    this.haveError = false;
  }

  /** Remembers the foreground weights (a filter known to cancel well) for `restore`. */
  checkpoint(): void {
    this.savedR ??= new Float64Array(this.fr.length);
    this.savedI ??= new Float64Array(this.fi.length);
    this.savedR.set(this.fr);
    this.savedI.set(this.fi);
  }

  /** Both filters back to the last checkpoint (false when there is none). */
  restore(): boolean {
    if (!this.savedR || !this.savedI) return false;
    for (const w of [this.fr, this.wr]) w.set(this.savedR);
    for (const w of [this.fi, this.wi]) w.set(this.savedI);
    return true;
  }

  /** Forgets the checkpoint (the echo path is new). */
  forget(): void {
    this.savedR = this.savedI = null;
  }

  private savedR: Float64Array | null = null;
  private savedI: Float64Array | null = null;

  /**
   * Rebuilds the reference window and spectrum history from pre-emphasised samples: `ref(k)` is the
   * reference sample k samples before the end of the last block processed (k ≥ 0, 0 = its last
   * sample). Used when the bulk delay moves: the weights stay, the history follows the new alignment.
   */
  realign(ref: (k: number) => number): void {
    const { n, frame, bins } = this;
    for (let m = 0; m <= this.partitions; m += 1) {
      for (let i = 0; i < n; i += 1) this.tmp[i] = ref(m * frame + n - 1 - i);
      const slot = (this.head + m) % (this.partitions + 1);
      this.fft.forward(this.tmp, this.yr, this.yi);
      this.xr.set(this.yr, slot * bins);
      this.xi.set(this.yi, slot * bins);
    }
    for (let i = 0; i < n; i += 1) this.x[i] = ref(n - 1 - i);
    this.haveError = false;
  }

  /** No far end for a while: only the mic's DC notch (its state kept continuous), no filtering. */
  bypass(mic: ArrayLike<number>, out: Float64Array): void {
    const den2 = NOTCH_RADIUS * NOTCH_RADIUS + 0.7 * (1 - NOTCH_RADIUS) * (1 - NOTCH_RADIUS);
    for (let i = 0; i < this.frame; i += 1) {
      const vin = mic[i]!;
      const vout = this.notch0 + vin;
      this.notch0 = this.notch1 + 2 * (-vin + NOTCH_RADIUS * vout);
      this.notch1 = vin - den2 * vout;
      const notched = NOTCH_RADIUS * vout;
      const v = notched - PREEMPH * this.memD + PREEMPH * this.memE;
      this.memD = notched;
      this.memE = v;
      out[i] = v;
    }
  }

  /**
   * One block: `mic` (F raw samples), `far` (the F aligned, pre-emphasised reference samples).
   * Writes the echo-cancelled block to `out`; returns the block's statistics.
   */
  process(mic: ArrayLike<number>, far: Float64Array, out: Float64Array): BlockResult {
    const { frame: F, n: N, bins: B, partitions: M } = this;
    const input = this.input;
    // DC notch and pre-emphasis of the mic.
    const den2 = NOTCH_RADIUS * NOTCH_RADIUS + 0.7 * (1 - NOTCH_RADIUS) * (1 - NOTCH_RADIUS);
    let sdd = 0;
    for (let i = 0; i < F; i += 1) {
      const vin = mic[i]!;
      if (vin <= -32000 || vin >= 32000) this.saturated = Math.max(this.saturated, 1);
      const vout = this.notch0 + vin;
      this.notch0 = this.notch1 + 2 * (-vin + NOTCH_RADIUS * vout);
      this.notch1 = vin - den2 * vout;
      const notched = NOTCH_RADIUS * vout;
      input[i] = notched - PREEMPH * this.memD;
      this.memD = notched;
      sdd += input[i]! * input[i]!;
    }
    // Far end: shift the window, saturation check, spectrum into the history.
    this.x.copyWithin(0, F);
    let sxx = 0;
    for (let i = 0; i < F; i += 1) {
      this.x[N - F + i] = far[i]!;
      sxx += far[i]! * far[i]!;
    }
    this.head = (this.head + M) % (M + 1);
    const slot = (k: number): number => ((this.head + k) % (M + 1)) * B;
    this.fft.forward(this.x, this.yr, this.yi);
    this.xr.set(this.yr, slot(0));
    this.xi.set(this.yi, slot(0));

    // Foreground: y = Σ F_m X_m, e = input − y.
    this.filter(this.fr, this.fi, this.yFg);
    let sff = 0;
    for (let i = 0; i < F; i += 1) {
      const e = input[i]! - this.yFg[i]!;
      sff += e * e;
    }

    // Proportional step per partition, then the gradient step with the previous block's error.
    this.adjustProp();
    if (this.saturated === 0 && this.haveError) {
      const { wr, wi, xr, xi, er, ei, prop, stepScale } = this;
      const step = this.rate.step;
      for (let j = M - 1; j >= 0; j -= 1) {
        const p = prop[j]! * stepScale;
        const xo = slot(j + 1);
        const wo = j * B;
        for (let k = 0; k < B; k += 1) {
          const w = p * step[k]!;
          const ar = xr[xo + k]!;
          const ai = xi[xo + k]!;
          const br = er[k]!;
          const bi = ei[k]!;
          // conj(X)·E
          wr[wo + k] = wr[wo + k]! + w * (ar * br + ai * bi);
          wi[wo + k] = wi[wo + k]! + w * (ar * bi - ai * br);
        }
      }
    } else if (this.saturated > 0) {
      this.saturated -= 1;
    }
    // AUMDF: constrain partition 0 and one rotating partition to F taps (no circular convolution).
    for (let j = 0; j < M; j += 1) {
      if (j === 0 || (M > 1 && this.cancelCount % (M - 1) === j - 1)) this.constrain(j);
    }
    this.cancelCount += 1;

    // Background filter with the new weights.
    this.filter(this.wr, this.wi, this.yBg);
    let dbf = 0;
    let see = 0;
    for (let i = 0; i < F; i += 1) {
      const d = this.yFg[i]! - this.yBg[i]!;
      dbf += d * d;
      const e = input[i]! - this.yBg[i]!;
      this.eBg[i] = e;
      see += e * e;
    }
    dbf += 10;
    see = this.twoPath(sff, see, dbf, input);

    // Output (foreground, possibly cross-faded to the new one) with de-emphasis.
    for (let i = 0; i < F; i += 1) {
      const v = input[i]! - this.yFg[i]! + PREEMPH * this.memE;
      this.memE = v;
      out[i] = v;
    }
    let syyFg = 0;
    for (let i = 0; i < F; i += 1) syyFg += this.yFg[i]! * this.yFg[i]!;

    this.adapt(sff, see, sxx, sdd);
    return { sdd, sff, syy: syyFg, sxx, leak: this.rate.leak, adapted: this.rate.adapted };
  }

  private readonly accR: Float64Array;
  private readonly accI: Float64Array;

  /** y (last F samples of the block) = IFFT(Σ W_m X_m). */
  private filter(wr: Float64Array, wi: Float64Array, y: Float64Array): void {
    const { bins: B, partitions: M, n: N, frame: F, accR, accI, xr, xi } = this;
    accR.fill(0);
    accI.fill(0);
    for (let j = 0; j < M; j += 1) {
      const xo = ((this.head + j) % (M + 1)) * B;
      const wo = j * B;
      for (let k = 0; k < B; k += 1) {
        const ar = wr[wo + k]!;
        const ai = wi[wo + k]!;
        const br = xr[xo + k]!;
        const bi = xi[xo + k]!;
        accR[k] = accR[k]! + ar * br - ai * bi;
        accI[k] = accI[k]! + ar * bi + ai * br;
      }
    }
    this.fft.inverse(accR, accI, this.tmp);
    for (let i = 0; i < F; i += 1) y[i] = this.tmp[N - F + i]!;
  }

  private constrain(j: number): void {
    const { bins: B, frame: F, n: N } = this;
    const re = this.wr.subarray(j * B, (j + 1) * B);
    const im = this.wi.subarray(j * B, (j + 1) * B);
    this.fft.inverse(re, im, this.tmp);
    for (let i = F; i < N; i += 1) this.tmp[i] = 0;
    this.fft.forward(this.tmp, re, im);
  }

  private adjustProp(): void {
    const { bins: B, partitions: M, wr, wi, prop } = this;
    let maxSum = 1;
    let propSum = 1;
    for (let j = 0; j < M; j += 1) {
      let t = 1;
      const wo = j * B;
      for (let k = 0; k < B; k += 1) t += wr[wo + k]! * wr[wo + k]! + wi[wo + k]! * wi[wo + k]!;
      prop[j] = Math.sqrt(t);
      if (prop[j]! > maxSum) maxSum = prop[j]!;
    }
    for (let j = 0; j < M; j += 1) {
      prop[j] = prop[j]! + 0.1 * maxSum;
      propSum += prop[j]!;
    }
    for (let j = 0; j < M; j += 1) prop[j] = (0.99 * prop[j]!) / propSum;
  }

  /** Speex's two-path logic: copy background → foreground when clearly better, or back when worse. Returns See. */
  private twoPath(sff: number, see: number, dbf: number, input: Float64Array): number {
    const F = this.frame;
    const diff = sff - see;
    this.davg1 = 0.6 * this.davg1 + 0.4 * diff;
    this.davg2 = 0.85 * this.davg2 + 0.15 * diff;
    this.dvar1 = VAR1_SMOOTH * this.dvar1 + 0.16 * sff * dbf;
    this.dvar2 = VAR2_SMOOTH * this.dvar2 + 0.0225 * sff * dbf;
    const update =
      diff * Math.abs(diff) > sff * dbf ||
      this.davg1 * Math.abs(this.davg1) > VAR1_UPDATE * this.dvar1 ||
      this.davg2 * Math.abs(this.davg2) > VAR2_UPDATE * this.dvar2;
    if (update) {
      this.davg1 = this.davg2 = this.dvar1 = this.dvar2 = 0;
      this.fr.set(this.wr);
      this.fi.set(this.wi);
      // Smooth transition of the echo estimate, so the switch adds no block edge.
      for (let i = 0; i < F; i += 1) this.yFg[i] = this.window[i + F]! * this.yFg[i]! + this.window[i]! * this.yBg[i]!;
      return see;
    }
    const reset =
      -diff * Math.abs(diff) > VAR_BACKTRACK * sff * dbf ||
      -this.davg1 * Math.abs(this.davg1) > VAR_BACKTRACK * this.dvar1 ||
      -this.davg2 * Math.abs(this.davg2) > VAR_BACKTRACK * this.dvar2;
    if (!reset) return see;
    this.wr.set(this.fr);
    this.wi.set(this.fi);
    for (let i = 0; i < F; i += 1) {
      this.yBg[i] = this.yFg[i]!;
      this.eBg[i] = input[i]! - this.yBg[i]!;
    }
    this.davg1 = this.davg2 = this.dvar1 = this.dvar2 = 0;
    return sff;
  }

  /** Error and echo spectra for the next step, sanity checks, the leak estimate and the learning rate. */
  private adapt(sff: number, seeIn: number, sxx: number, sdd: number): void {
    const { frame: F, n: N, bins: B, partitions: M, nSpeex } = this;
    let sey = 0;
    let syy = 0;
    for (let i = 0; i < F; i += 1) {
      sey += this.eBg[i]! * this.yBg[i]!;
      syy += this.yBg[i]! * this.yBg[i]!;
    }
    this.tmp.fill(0, 0, N - F);
    this.tmp.set(this.eBg, N - F);
    this.fft.forward(this.tmp, this.er, this.ei);
    this.tmp.set(this.yBg, N - F);
    this.fft.forward(this.tmp, this.yr, this.yi);
    this.haveError = true;
    for (let k = 0; k < B; k += 1) {
      this.rf[k] = this.er[k]! * this.er[k]! + this.ei[k]! * this.ei[k]!;
      this.yf[k] = this.yr[k]! * this.yr[k]! + this.yi[k]! * this.yi[k]!;
    }
    if (!(syy >= 0 && sxx >= 0 && seeIn >= 0) || !(sff < N * 1e9 && syy < N * 1e9 && sxx < N * 1e9)) {
      this.screwedUp += 50;
    } else if (sff / 4 > sdd + (nSpeex * 10000) / 64) {
      this.screwedUp += 1;
    } else {
      this.screwedUp = 0;
    }
    if (this.screwedUp >= 50) {
      this.reset();
      return;
    }
    this.rate.update(this.rf, this.yf, this.xr, this.xi, (this.head % (M + 1)) * B, { sxx, see: seeIn, syy, sey });
  }
}
