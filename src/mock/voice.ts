/**
 * The simulator's "speech": the user's utterance echoed back at the output rate, or a generated
 * voice-like signal (harmonic series with a gliding f0 and a syllable-rate envelope). Self-contained
 * on purpose: src/mock does not import the client's audio code.
 */

/** Resample PCM16 mono by linear interpolation (for 16k→48k this is a 3× interpolating filter). */
export function upsample(pcm: Buffer, inRate: number, outRate: number): Buffer {
  const inSamples = Math.floor(pcm.length / 2);
  if (inSamples === 0 || inRate === outRate) return Buffer.from(pcm.subarray(0, inSamples * 2));
  const outSamples = Math.floor((inSamples * outRate) / inRate);
  const out = Buffer.alloc(outSamples * 2);
  const step = inRate / outRate;
  for (let i = 0; i < outSamples; i++) {
    const position = i * step;
    const left = Math.floor(position);
    const fraction = position - left;
    const a = pcm.readInt16LE(left * 2);
    const b = left + 1 < inSamples ? pcm.readInt16LE((left + 1) * 2) : a;
    out.writeInt16LE(Math.round(a + (b - a) * fraction), i * 2);
  }
  return out;
}

/**
 * A voice-like signal of `durationMs` at `rate`: f0 ≈ 150 Hz with a slight glide, 8 harmonics
 * (1/k amplitudes), ~4 syllables per second with short pauses, peak about -8 dBFS. `seed` varies
 * the contour so turns do not all sound identical.
 */
export function synthVoice(durationMs: number, rate: number, seed = 0): Buffer {
  const samples = Math.max(0, Math.round((durationMs * rate) / 1000));
  const out = Buffer.alloc(samples * 2);
  const syllableHz = 4 + (seed % 3) * 0.4;
  const baseF0 = 140 + (seed % 5) * 5;
  let phase = 0;
  for (let i = 0; i < samples; i++) {
    const t = i / rate;
    const progress = i / Math.max(1, samples);
    // declination (falling pitch over the phrase) plus a gentle vibrato-like wobble
    const f0 = baseF0 * (1.08 - 0.16 * progress) + 6 * Math.sin(2 * Math.PI * 0.7 * t + seed);
    phase += (2 * Math.PI * f0) / rate;
    let value = 0;
    for (let k = 1; k <= 8; k++) value += Math.sin(k * phase) / k;
    const syllable = Math.sin(Math.PI * ((t * syllableHz) % 1));
    const envelope = Math.pow(Math.max(0, syllable), 0.6) * edgeFade(i, samples, rate);
    out.writeInt16LE(Math.round(value * envelope * 0.18 * 32767), i * 2);
  }
  return out;
}

function edgeFade(index: number, total: number, rate: number): number {
  const fade = Math.min(total / 2, rate * 0.02);
  if (index < fade) return index / fade;
  if (total - index < fade) return (total - index) / fade;
  return 1;
}

/** Split PCM16 mono into chunks of `chunkMs` (the last one may be shorter, never odd). */
export function chunkPcm(pcm: Buffer, rate: number, chunkMs: number): Buffer[] {
  const size = Math.max(2, Math.round((rate * chunkMs) / 1000) * 2);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < pcm.length - 1; offset += size) chunks.push(pcm.subarray(offset, Math.min(pcm.length, offset + size)));
  return chunks;
}
