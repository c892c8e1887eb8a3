/** PCM16 arithmetic: sizes, silence, base64, levels, framing, downmix. Pure. */

/** Bytes of PCM16 mono for `ms` at `rate`, whole samples. */
export function bytesForMs(ms: number, rate: number): number {
  return Math.round((ms * rate) / 1000) * 2;
}

/** Duration in ms of PCM16 mono bytes at `rate`. */
export function msForBytes(bytes: number, rate: number): number {
  return (bytes / 2 / rate) * 1000;
}

/** `ms` of PCM16 mono silence at `rate` (16 kHz unless given): a fresh, writable buffer. */
export function silence(ms: number, rate = 16000): Buffer {
  return Buffer.alloc(bytesForMs(ms, rate));
}

/** Base64 audio as PCM16, or why it is not (bad characters, odd byte count). Runs per audio delta: no regex pass. */
export function decodeAudioBase64(b64: string): { pcm: Buffer } | { problem: string } {
  if (b64.length % 4 !== 0) return { problem: 'invalid base64' };
  const pcm = Buffer.from(b64, 'base64');
  // Node skips characters outside the alphabet and stops at inner padding: fewer bytes than the text promises.
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  if (pcm.length !== (b64.length / 4) * 3 - padding) return { problem: 'invalid base64' };
  if (pcm.length % 2 !== 0) return { problem: `odd number of PCM16 bytes (${pcm.length})` };
  return { pcm };
}

/** Samples of a PCM16 buffer as an Int16Array view (copies only when unaligned). */
export function samplesOf(pcm: Buffer): Int16Array {
  if (pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, Math.floor(pcm.length / 2));
  const copy = Buffer.from(pcm);
  return new Int16Array(copy.buffer, copy.byteOffset, Math.floor(copy.length / 2));
}

/** RMS level in dBFS; -100 for digital silence. */
export function levelDbfs(pcm: Buffer): number {
  const samples = samplesOf(pcm);
  if (samples.length === 0) return -100;
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  const rms = Math.sqrt(sum / samples.length) / 32768;
  return rms <= 0.00001 ? -100 : 20 * Math.log10(rms);
}

/** Cuts a byte stream into fixed frames, keeping the remainder for the next push. */
const EMPTY = Buffer.alloc(0);

export class Framer {
  private pending = EMPTY;
  private readonly frameBytes: number;

  constructor(frameBytes: number) {
    this.frameBytes = frameBytes;
  }

  push(pcm: Buffer): Buffer[] {
    const data = this.pending.length === 0 ? pcm : Buffer.concat([this.pending, pcm]);
    const frames: Buffer[] = [];
    let offset = 0;
    while (data.length - offset >= this.frameBytes) {
      frames.push(data.subarray(offset, offset + this.frameBytes));
      offset += this.frameBytes;
    }
    this.pending = offset === data.length ? EMPTY : Buffer.from(data.subarray(offset));
    return frames;
  }

  rest(): Buffer {
    const rest = this.pending;
    this.pending = EMPTY;
    return rest;
  }
}

/** Average interleaved channels into mono. */
export function downmix(interleaved: Int16Array, channels: number): Int16Array {
  if (channels <= 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i += 1) {
    let sum = 0;
    for (let c = 0; c < channels; c += 1) sum += interleaved[i * channels + c]!;
    out[i] = Math.round(sum / channels);
  }
  return out;
}
