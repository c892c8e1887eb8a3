/**
 * Residual echo suppression after the adaptive filter: what the linear filter leaves (its leak
 * estimate × the echo it predicted) is treated as noise in a Wiener gain on each 10 ms block. With
 * echo alone the gain falls to the floor (−40 dB); with the near end talking the error is far above
 * the predicted residual and the gain stays near 1, so the user's voice goes through. Broadband and
 * causal: the gain is ramped across the block, so it adds no latency and no block-edge clicks.
 */
const FLOOR = 0.01; // −40 dB
const OVERSUBTRACT = 2;
/** The mic must exceed the predicted echo by this factor (power, +3 dB) to hold any near end. */
const MIC_OVER_ECHO = 2;
/** The predicted residual decays at most this much per block (the room keeps ringing). */
const TAIL = 0.6;
/** Near end counts as talking when it exceeds the predicted residual by this factor (power). */
const TALK_RATIO = 4;
/** …and is above this mean square per sample (≈ −50 dBFS). */
const TALK_FLOOR = 1e4;

export class ResidualSuppressor {
  private residual = 0;
  private gain = 1;
  /** Near-end speech over the far end's echo in the last block. */
  doubleTalk = false;

  reset(): void {
    this.residual = 0;
    this.gain = 1;
    this.doubleTalk = false;
  }

  /**
   * `errorEnergy`: the filter output's energy in this block; `echoEnergy`: its echo estimate's;
   * `leak`: the residual-to-estimate ratio. Applies the gain to `block` in place.
   */
  apply(block: Float64Array, errorEnergy: number, echoEnergy: number, leak: number, micEnergy: number): void {
    // A mic no louder than the echo the filter predicts holds no near end: whatever the filter left
    // is echo (this catches a filter that lost track after a jump of the echo path).
    const echoOnly = micEnergy < MIC_OVER_ECHO * echoEnergy;
    this.residual = Math.max(echoOnly ? errorEnergy : leak * echoEnergy, TAIL * this.residual);
    const near = Math.max(0, errorEnergy - OVERSUBTRACT * this.residual);
    const snr = near / (this.residual + 1e-9);
    const target = Math.max(FLOOR, snr / (1 + snr));
    const next = target > this.gain ? target : Math.max(target, 0.5 * this.gain);
    const n = block.length;
    for (let i = 0; i < n; i += 1) block[i] = block[i]! * (this.gain + ((next - this.gain) * (i + 1)) / n);
    this.gain = next;
    this.doubleTalk = this.residual > 0 && near > TALK_RATIO * this.residual && errorEnergy / n > TALK_FLOOR;
  }
}
