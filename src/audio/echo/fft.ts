/**
 * A small real-input radix-2 FFT (no dependency): an N/2-point complex FFT plus the split step.
 * Spectra are half-spectra of N/2+1 bins in two arrays (re, im). Scaling follows Speex's echo
 * canceller: forward() divides by N, inverse() does not, so inverse(forward(x)) = x.
 */
export class RealFft {
  readonly size: number;
  readonly bins: number;
  private readonly half: number;
  private readonly rev: Uint32Array;
  private readonly cosT: Float64Array;
  private readonly sinT: Float64Array;
  private readonly sinInv: Float64Array;
  /** e^{-2πik/N} for the split step. */
  private readonly wr: Float64Array;
  private readonly wi: Float64Array;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;

  constructor(size: number) {
    if (size < 4 || (size & (size - 1)) !== 0) throw new Error(`FFT size must be a power of two ≥ 4, got ${size}`);
    this.size = size;
    this.half = size >> 1;
    this.bins = this.half + 1;
    const h = this.half;
    const bits = Math.log2(h);
    this.rev = new Uint32Array(h);
    for (let i = 0; i < h; i += 1) {
      let r = 0;
      for (let b = 0; b < bits; b += 1) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.cosT = new Float64Array(h / 2 || 1);
    this.sinT = new Float64Array(h / 2 || 1);
    for (let i = 0; i < h / 2; i += 1) {
      this.cosT[i] = Math.cos((2 * Math.PI * i) / h);
      this.sinT[i] = -Math.sin((2 * Math.PI * i) / h);
    }
    this.sinInv = this.sinT.map((v) => -v);
    this.wr = new Float64Array(this.bins);
    this.wi = new Float64Array(this.bins);
    for (let k = 0; k < this.bins; k += 1) {
      this.wr[k] = Math.cos((2 * Math.PI * k) / size);
      this.wi[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    this.zr = new Float64Array(h);
    this.zi = new Float64Array(h);
  }

  /** In-place complex FFT of the N/2 work arrays; `sign` −1 forward, +1 inverse (both unscaled). */
  private complex(sign: number): void {
    const { zr, zi, rev, cosT, sinT } = this;
    const n = this.half;
    for (let i = 0; i < n; i += 1) {
      const j = rev[i]!;
      if (j > i) {
        const tr = zr[i]!;
        zr[i] = zr[j]!;
        zr[j] = tr;
        const ti = zi[i]!;
        zi[i] = zi[j]!;
        zi[j] = ti;
      }
    }
    // First stage: twiddle 1.
    for (let a = 0; a < n; a += 2) {
      const br = zr[a + 1]!;
      const bi = zi[a + 1]!;
      zr[a + 1] = zr[a]! - br;
      zi[a + 1] = zi[a]! - bi;
      zr[a] = zr[a]! + br;
      zi[a] = zi[a]! + bi;
    }
    const sinS = sign < 0 ? sinT : this.sinInv;
    for (let len = 4; len <= n; len <<= 1) {
      const halfLen = len >> 1;
      const step = n / len;
      for (let k = 0; k < halfLen; k += 1) {
        const c = cosT[k * step]!;
        const s = sinS[k * step]!;
        for (let a = k; a < n; a += len) {
          const b = a + halfLen;
          const xr = zr[b]!;
          const xi = zi[b]!;
          const br = xr * c - xi * s;
          const bi = xr * s + xi * c;
          const ar = zr[a]!;
          const ai = zi[a]!;
          zr[b] = ar - br;
          zi[b] = ai - bi;
          zr[a] = ar + br;
          zi[a] = ai + bi;
        }
      }
    }
  }

  /** X = DFT(x) / N for real x of length N (read from `offset`). */
  forward(x: ArrayLike<number>, re: Float64Array, im: Float64Array, offset = 0): void {
    const { zr, zi, wr, wi } = this;
    const h = this.half;
    for (let n = 0; n < h; n += 1) {
      zr[n] = x[offset + 2 * n]!;
      zi[n] = x[offset + 2 * n + 1]!;
    }
    this.complex(-1);
    const scale = 1 / this.size;
    for (let k = 0; k <= h; k += 1) {
      const a = k === h ? 0 : k;
      const b = k === 0 ? 0 : h - k;
      // Even and odd halves' spectra from Z[k] and conj(Z[h-k]).
      const er = (zr[a]! + zr[b]!) / 2;
      const ei = (zi[a]! - zi[b]!) / 2;
      const or = (zi[a]! + zi[b]!) / 2;
      const oi = -(zr[a]! - zr[b]!) / 2;
      re[k] = (er + wr[k]! * or - wi[k]! * oi) * scale;
      im[k] = (ei + wr[k]! * oi + wi[k]! * or) * scale;
    }
  }

  /** x = inverse of forward(): unscaled inverse DFT of a half-spectrum, written to x[offset…]. */
  inverse(re: Float64Array, im: Float64Array, x: Float64Array, offset = 0): void {
    const { zr, zi, wr, wi } = this;
    const h = this.half;
    for (let k = 0; k < h; k += 1) {
      const b = h - k;
      // Xe = (X[k] + conj(X[h-k])) / 2, Xo = (X[k] - conj(X[h-k])) / (2 W^k); Z = Xe + i Xo.
      const er = (re[k]! + re[b]!) / 2;
      const ei = (im[k]! - im[b]!) / 2;
      const dr = (re[k]! - re[b]!) / 2;
      const di = (im[k]! + im[b]!) / 2;
      // divide by W^k = multiply by conj(W^k)
      const or = dr * wr[k]! + di * wi[k]!;
      const oi = di * wr[k]! - dr * wi[k]!;
      zr[k] = er - oi;
      zi[k] = ei + or;
    }
    this.complex(1);
    for (let n = 0; n < h; n += 1) {
      x[offset + 2 * n] = zr[n]! * 2;
      x[offset + 2 * n + 1] = zi[n]! * 2;
    }
  }
}
