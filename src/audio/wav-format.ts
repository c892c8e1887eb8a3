/**
 * WAV headers and sample formats, read incrementally so that a file of any length (or a FIFO) can be
 * streamed: the RIFF (or big-endian RIFX) chunks up to `data` are parsed and range-checked, then
 * whole sample frames of PCM (8–32 bit), IEEE float (32/64 bit), A-law or µ-law, plain or
 * WAVE_FORMAT_EXTENSIBLE, decode to interleaved PCM16.
 */
import { HydraError } from '../errors.js';

export type WavEncoding = 'int' | 'float' | 'alaw' | 'mulaw';

export type WavFormat = {
  encoding: WavEncoding;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
  /** Size of the data chunk, or null when the header does not say (0 or 0xFFFFFFFF: streamed). */
  dataBytes: number | null;
  /** A RIFX file: every field and sample is big-endian. */
  bigEndian: boolean;
};

/** Pulls bytes from a file, a pipe or a buffer: `read(n)` returns fewer than n bytes only at the end. */
export class ByteReader {
  private readonly parts: Buffer[] = [];
  private available = 0;
  private done = false;
  /** Bytes handed out or skipped so far. */
  consumed = 0;

  private readonly pull: () => Promise<Buffer | null>;

  constructor(pull: () => Promise<Buffer | null>) {
    this.pull = pull;
  }

  static of(bytes: Buffer): ByteReader {
    let given = false;
    return new ByteReader(async () => (given ? null : ((given = true), bytes)));
  }

  private async fill(n: number): Promise<void> {
    while (this.available < n && !this.done) {
      const chunk = await this.pull();
      if (chunk === null) this.done = true;
      else if (chunk.length > 0) {
        this.parts.push(chunk);
        this.available += chunk.length;
      }
    }
  }

  /** Up to `max` bytes: what is buffered, or the next chunk; null at the end. */
  async chunk(max: number): Promise<Buffer | null> {
    await this.fill(1);
    if (this.available === 0) return null;
    return this.take(Math.min(max, this.available));
  }

  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    return this.take(Math.min(n, this.available));
  }

  /** Skips `n` bytes without holding them; false when the input ended first. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      const got = await this.chunk(Math.min(left, 1 << 20));
      if (got === null) return false;
      left -= got.length;
    }
    return true;
  }

  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.parts[0]!;
      const count = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, count);
      filled += count;
      if (count === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(count);
    }
    this.available -= n;
    this.consumed += n;
    return out;
  }
}

export const LIMITS = { minRate: 1000, maxRate: 384_000, maxChannels: 32 } as const;

const TAGS: Record<number, WavEncoding> = { 1: 'int', 3: 'float', 6: 'alaw', 7: 'mulaw' };
const EXTENSIBLE = 0xfffe;

/** Reads the RIFF header up to the start of the audio; throws an `input-file` HydraError naming what is wrong. */
export async function readWavHeader(reader: ByteReader, name: string): Promise<WavFormat> {
  const fail = (why: string): never => {
    throw new HydraError('input-file', `${name} is not a usable WAV file: ${why}`, {
      hint: 'convert it first, e.g. sox in.mp3 -r 16000 -c 1 -b 16 out.wav',
    });
  };
  const riff = await reader.read(12);
  const kind = riff.toString('latin1', 0, 4);
  if (riff.length < 12 || (kind !== 'RIFF' && kind !== 'RIFX') || riff.toString('latin1', 8, 12) !== 'WAVE') {
    return fail(kind === 'RF64' ? 'RF64 files are not supported' : 'no RIFF/WAVE header');
  }
  const bigEndian = kind === 'RIFX';
  let format: Omit<WavFormat, 'dataBytes'> | null = null;
  for (;;) {
    const head = await reader.read(8);
    if (head.length < 8) return fail(format ? 'no data chunk' : 'no fmt chunk');
    const id = head.toString('latin1', 0, 4);
    const size = bigEndian ? head.readUInt32BE(4) : head.readUInt32LE(4);
    if (id === 'fmt ') {
      if (size < 16 || size > 4096) return fail(`a fmt chunk of ${size} bytes`);
      const body = await reader.read(size + (size & 1));
      if (body.length < size) return fail('the fmt chunk is cut short');
      format = parseFmt(bigEndian ? swapFmt(body, size) : body, size, fail, bigEndian);
    } else if (id === 'data') {
      if (!format) return fail('the data chunk comes before the fmt chunk');
      return { ...format, dataBytes: size === 0 || size === 0xffffffff ? null : size };
    } else if (!(await reader.skip(size + (size & 1)))) {
      return fail(format ? 'no data chunk' : 'no fmt chunk');
    }
  }
}

/** A RIFX fmt chunk with its fields in little-endian order, so one parser reads both. */
function swapFmt(body: Buffer, size: number): Buffer {
  const out = Buffer.from(body);
  for (const at of [0, 2, 12, 14, 16, 18, 24]) if (at + 2 <= size) out.writeUInt16LE(body.readUInt16BE(at), at);
  for (const at of [4, 8, 20]) if (at + 4 <= size) out.writeUInt32LE(body.readUInt32BE(at), at);
  return out;
}

function parseFmt(body: Buffer, size: number, fail: (why: string) => never, bigEndian: boolean): Omit<WavFormat, 'dataBytes'> {
  let tag = body.readUInt16LE(0);
  const channels = body.readUInt16LE(2);
  const sampleRate = body.readUInt32LE(4);
  const blockAlign = body.readUInt16LE(12);
  const bitsPerSample = body.readUInt16LE(14);
  if (tag === EXTENSIBLE) {
    if (size < 40) fail('a WAVE_FORMAT_EXTENSIBLE header without its sub-format');
    tag = body.readUInt16LE(24);
  }
  const encoding = TAGS[tag];
  if (!encoding) fail(`format tag 0x${tag.toString(16).padStart(4, '0')} is not PCM, IEEE float, A-law or µ-law`);
  if (sampleRate < LIMITS.minRate || sampleRate > LIMITS.maxRate) {
    fail(`its sample rate of ${sampleRate} Hz is out of range (${LIMITS.minRate / 1000} kHz to ${LIMITS.maxRate / 1000} kHz)`);
  }
  if (channels < 1 || channels > LIMITS.maxChannels) fail(`${channels} channels is out of range (1 to ${LIMITS.maxChannels})`);
  const bitsOk =
    encoding === 'int' ? bitsPerSample >= 8 && bitsPerSample <= 32 : encoding === 'float' ? bitsPerSample === 32 || bitsPerSample === 64 : bitsPerSample === 8;
  if (!bitsOk) fail(`${bitsPerSample}-bit ${encoding === 'int' ? 'PCM' : encoding} is not supported`);
  const container = Math.ceil(bitsPerSample / 8);
  if (blockAlign !== channels * container) fail(`block align ${blockAlign} does not fit ${channels} channel(s) of ${bitsPerSample} bits`);
  return { encoding: encoding!, sampleRate, channels, bitsPerSample, blockAlign, bigEndian };
}

/** Whole sample frames (a multiple of blockAlign bytes) as interleaved PCM16. */
export function decodeSamples(bytes: Buffer, format: Pick<WavFormat, 'encoding' | 'blockAlign' | 'channels' | 'bigEndian'>): Int16Array {
  const width = format.blockAlign / format.channels;
  const be = format.bigEndian;
  const count = Math.floor(bytes.length / width);
  const out = new Int16Array(count);
  switch (format.encoding) {
    case 'alaw':
    case 'mulaw': {
      const table = format.encoding === 'alaw' ? ALAW : MULAW;
      for (let i = 0; i < count; i += 1) out[i] = table[bytes[i]!]!;
      return out;
    }
    case 'float':
      for (let i = 0; i < count; i += 1) {
        const at = i * width;
        out[i] = fromFloat(width === 4 ? (be ? bytes.readFloatBE(at) : bytes.readFloatLE(at)) : be ? bytes.readDoubleBE(at) : bytes.readDoubleLE(at));
      }
      return out;
    case 'int':
      for (let i = 0, at = 0; i < count; i += 1, at += width) {
        // The top 16 bits of each container (samples are left-justified in it); 8-bit is unsigned.
        out[i] = width === 1 ? (bytes[at]! - 128) << 8 : be ? bytes.readInt16BE(at) : bytes.readInt16LE(at + width - 2);
      }
      return out;
  }
}

function fromFloat(value: number): number {
  if (!(value === value)) return 0; // NaN
  const scaled = Math.round(value < 0 ? value * 32768 : value * 32767);
  return scaled > 32767 ? 32767 : scaled < -32768 ? -32768 : scaled;
}

/** G.711 expansion tables (ITU-T G.711, as in Sun's g711.c). */
const ALAW = new Int16Array(256);
const MULAW = new Int16Array(256);
for (let i = 0; i < 256; i += 1) {
  const a = i ^ 0x55;
  const exponent = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = exponent === 0 ? t + 8 : (t + 0x108) << (exponent - 1);
  ALAW[i] = a & 0x80 ? t : -t;
  const u = ~i & 0xff;
  let m = ((u & 0x0f) << 3) + 0x84;
  m <<= (u & 0x70) >> 4;
  MULAW[i] = u & 0x80 ? 0x84 - m : m - 0x84;
}
