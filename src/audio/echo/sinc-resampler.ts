/**
 * A small synchronous windowed-sinc resampler for the far-end reference (PCM16 mono at any rate →
 * 16 kHz float samples). Synchronous on purpose: the canceller is pure and must not await a WASM
 * module. Kaiser-windowed sinc, 8 zero crossings each side, 64 sub-sample phases interpolated
 * linearly: aliasing below −60 dB, far more than the adaptive filter can use.
 */
const ZEROS = 8;
const PHASES = 64;
const BETA = 7;

function bessel0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 30; k += 1) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

export class SincResampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly step: number;
  private readonly cutoff: number;
  private readonly half: number;
  /** Kernel sampled at PHASES points per input sample, for offsets −half…+half. */
  private readonly table: Float64Array;
  private history: Float64Array;
  private readonly kernels = new Map<number, Float64Array>();
  private historyLen = 0;
  /** Position of the next output sample, in input samples relative to history[0]. */
  private pos: number;

  constructor(inRate: number, outRate: number) {
    this.inRate = inRate;
    this.outRate = outRate;
    this.step = inRate / outRate;
    this.cutoff = Math.min(1, outRate / inRate) * 0.97;
    this.half = Math.ceil(ZEROS / this.cutoff);
    const n = 2 * this.half * PHASES + 1;
    this.table = new Float64Array(n + 1);
    for (let i = 0; i < n; i += 1) {
      const t = i / PHASES - this.half;
      const sinc = t === 0 ? 1 : Math.sin(Math.PI * this.cutoff * t) / (Math.PI * this.cutoff * t);
      const r = t / this.half;
      const window = Math.abs(r) >= 1 ? 0 : bessel0(BETA * Math.sqrt(1 - r * r)) / bessel0(BETA);
      this.table[i] = this.cutoff * sinc * window;
    }
    this.history = new Float64Array(4096);
    // Start with half a kernel of silence so that the first output sample is the first input sample.
    this.historyLen = this.half;
    this.pos = this.half;
  }

  /** The kernel for a sub-sample phase; rational rates (48k → 16k, 24k → 16k) reuse a handful. */
  private kernel(frac: number): Float64Array {
    const key = Math.round(frac * 1e6);
    let kernel = this.kernels.get(key);
    if (kernel) return kernel;
    kernel = new Float64Array(2 * this.half);
    for (let k = -this.half + 1; k <= this.half; k += 1) {
      const t = (k - frac + this.half) * PHASES;
      const ti = Math.floor(t);
      kernel[k + this.half - 1] = this.table[ti]! + (this.table[ti + 1]! - this.table[ti]!) * (t - ti);
    }
    if (this.kernels.size < 256) this.kernels.set(key, kernel);
    return kernel;
  }

  /** Resamples `input` (appended to what came before); returns the output samples now complete. */
  process(input: Int16Array | Float64Array): Float64Array {
    const needed = this.historyLen + input.length;
    if (needed > this.history.length) {
      const grown = new Float64Array(Math.max(needed, this.history.length * 2));
      grown.set(this.history.subarray(0, this.historyLen));
      this.history = grown;
    }
    this.history.set(input, this.historyLen);
    this.historyLen = needed;
    const outCount = Math.max(0, Math.floor((this.historyLen - 1 - this.half - this.pos) / this.step) + 1);
    const out = new Float64Array(outCount);
    const { history, half } = this;
    for (let o = 0; o < outCount; o += 1) {
      const p = this.pos + o * this.step;
      const base = Math.floor(p);
      const kernel = this.kernel(p - base);
      let acc = 0;
      const from = base - half + 1;
      for (let k = 0; k < kernel.length; k += 1) acc += kernel[k]! * history[from + k]!;
      out[o] = acc;
    }
    this.pos += outCount * this.step;
    // Drop input no longer needed by any future output sample.
    const drop = Math.max(0, Math.floor(this.pos) - half);
    if (drop > 0) {
      this.history.copyWithin(0, drop, this.historyLen);
      this.historyLen -= drop;
      this.pos -= drop;
    }
    return out;
  }
}
