/**
 * The adaptive filter's per-bin learning rate, as in Speex's mdf.c (Valin, 2007): the best NLMS
 * step is the residual echo's share of the error, estimated from the "leak" (a regression of the
 * error spectrum's changes on the echo estimate's) and the residual-to-error ratio. During double
 * talk the error is mostly near-end speech, so the step shrinks on its own: the filter does not
 * learn the user's voice. Before the filter has adapted at all, a plain broadband step is used.
 */
const MIN_LEAK = 0.005;

export class LearningRate {
  /** The step per bin (μ / far-end power), what the gradient is multiplied by. */
  readonly step: Float64Array;
  /** Residual echo leak estimate (residual power / echo estimate power). */
  leak = 0;
  adapted = false;
  private readonly power: Float64Array;
  private readonly eh: Float64Array;
  private readonly yh: Float64Array;
  private readonly frame: number;
  private readonly partitions: number;
  private sumAdapt = 0;
  private pey = 1;
  private pyy = 1;

  constructor(bins: number, frame: number, partitions: number) {
    this.step = new Float64Array(bins);
    this.power = new Float64Array(bins);
    this.eh = new Float64Array(bins);
    this.yh = new Float64Array(bins);
    this.frame = frame;
    this.partitions = partitions;
    this.reset();
  }

  reset(): void {
    this.step.fill(0);
    this.power.fill(1);
    this.eh.fill(0);
    this.yh.fill(0);
    this.leak = 0;
    this.adapted = false;
    this.sumAdapt = 0;
    this.pey = this.pyy = 1;
  }

  /**
   * One block: power spectra of the error (`rf`), the echo estimate (`yf`) and the newest far-end
   * spectrum (`xr`, `xi` from `xo`); time-domain energies of far end, error, echo estimate, and their
   * cross-product.
   */
  update(rf: Float64Array, yf: Float64Array, xr: Float64Array, xi: Float64Array, xo: number, e: { sxx: number; see: number; syy: number; sey: number }): void {
    const F = this.frame;
    const M = this.partitions;
    const bins = this.step.length;
    const nSpeex = 2 * F;
    const see = Math.max(e.see, (nSpeex * 100) / 64);
    const { sxx, syy, sey } = e;
    const ss = 0.35 / M;
    for (let k = 0; k < bins; k += 1) {
      const r = xr[xo + k]!;
      const i = xi[xo + k]!;
      this.power[k] = (1 - ss) * this.power[k]! + 1 + ss * (r * r + i * i);
    }
    const specAverage = F / 16000;
    let pey = 0;
    let pyy = 0;
    for (let k = 0; k < bins; k += 1) {
      const eh = rf[k]! - this.eh[k]!;
      const yh = yf[k]! - this.yh[k]!;
      pey += eh * yh;
      pyy += yh * yh;
      this.eh[k] = (1 - specAverage) * this.eh[k]! + specAverage * rf[k]!;
      this.yh[k] = (1 - specAverage) * this.yh[k]! + specAverage * yf[k]!;
    }
    pyy = Math.sqrt(pyy);
    pey = pyy > 0 ? pey / pyy : 0;
    const alpha = Math.min(((2 * F) / 16000) * syy, ((0.5 * F) / 16000) * see) / see;
    this.pey = (1 - alpha) * this.pey + alpha * pey;
    this.pyy = Math.max(1, (1 - alpha) * this.pyy + alpha * pyy);
    // Speex: "we don't really hope to get better than 33 dB attenuation anyway".
    this.pey = Math.min(this.pyy, Math.max(MIN_LEAK * this.pyy, this.pey));
    this.leak = this.pey / this.pyy;
    if (this.leak > 0.5) this.leak = 1;
    let rer = (0.0001 * sxx + 3 * this.leak * syy) / see;
    rer = Math.min(0.5, Math.max(rer, (sey * sey) / (1 + see * syy)));
    if (!this.adapted && this.sumAdapt > M && this.leak > 0.03) this.adapted = true;
    if (this.adapted) {
      for (let k = 0; k < bins; k += 1) {
        const err = rf[k]! + 1;
        const r = 0.7 * Math.min(this.leak * yf[k]!, 0.5 * err) + 0.3 * rer * err;
        this.step[k] = r / (err * (this.power[k]! + 10));
      }
      return;
    }
    const rate = sxx > (nSpeex * 1000) / 64 ? Math.min(0.25 * sxx, 0.25 * see) / see : 0;
    for (let k = 0; k < bins; k += 1) this.step[k] = rate / (this.power[k]! + 10);
    this.sumAdapt += rate;
  }
}
