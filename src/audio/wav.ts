/**
 * WAV files. Reading accepts any PCM/float WAV (via wavefile) and converts; writing streams PCM16
 * with the RIFF/data sizes patched every second and on close, so a killed process leaves a valid file.
 */
import { closeSync, openSync, writeSync, type PathLike } from 'node:fs';
import { readFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { HydraError } from '../errors.js';
import { downmix, samplesOf } from './pcm.js';
import { resampleAll } from './resample.js';

export type WavData = { sampleRate: number; channels: number; pcm: Buffer };

/** Decodes a WAV of any bit depth to PCM16, interleaved as stored. */
export async function readWav(path: string): Promise<WavData> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code);
    throw new HydraError('input-file', `cannot read ${path}: ${why}`, { cause: error });
  }
  try {
    const wav = new wavefile.WaveFile(bytes);
    const fmt = wav.fmt as { numChannels: number; sampleRate: number };
    if (wav.bitDepth !== '16') wav.toBitDepth('16');
    const samples = wav.getSamples(true, Int16Array) as unknown as Int16Array;
    const pcm = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    if (!fmt.sampleRate || !fmt.numChannels) throw new Error('missing format');
    return { sampleRate: fmt.sampleRate, channels: fmt.numChannels, pcm };
  } catch (error) {
    throw new HydraError('input-file', `${path} is not a readable WAV file (${error instanceof Error ? error.message : String(error)})`, {
      hint: 'convert it first, e.g. sox in.mp3 -r 16000 -c 1 -b 16 out.wav',
      cause: error,
    });
  }
}

/** Any WAV as 16 kHz mono PCM16: downmixed, then resampled with a proper low-pass filter. */
export async function readWavMono16k(path: string): Promise<Buffer> {
  const wav = await readWav(path);
  const mono = downmix(samplesOf(wav.pcm), wav.channels);
  const monoPcm = Buffer.from(mono.buffer, mono.byteOffset, mono.byteLength);
  return resampleAll(monoPcm, wav.sampleRate, 16000);
}

const HEADER_BYTES = 44;

/** A PCM16 WAV header for `dataBytes` of audio. */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** Streams PCM16 to a WAV; synchronous writes so that nothing is lost on a sudden exit. */
export class WavWriter {
  private fd: number | null;
  private dataBytes = 0;
  private patchedAt = 0;
  private timer: NodeJS.Timeout;
  readonly sampleRate: number;
  readonly channels: number;
  readonly path: string;

  private constructor(fd: number, path: string, sampleRate: number, channels: number) {
    this.fd = fd;
    this.path = path;
    this.sampleRate = sampleRate;
    this.channels = channels;
    // The header is kept true at least once a second: a kill leaves a file at most 1 s short.
    this.timer = setInterval(() => this.patch(), 1000);
    this.timer.unref();
  }

  /** Patch the header after every write: the file is a valid WAV at every instant (crash-safe). */
  private everyWrite = false;

  static async open(path: string, options: { sampleRate: number; channels: number; crashSafe?: boolean }): Promise<WavWriter> {
    let fd: number;
    try {
      fd = openSync(path as PathLike, 'w');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new HydraError('output-file', `cannot write ${path}: ${code}`, { cause: error });
    }
    writeSync(fd, wavHeader(options.sampleRate, options.channels, 0), 0, HEADER_BYTES, 0);
    const writer = new WavWriter(fd, path, options.sampleRate, options.channels);
    writer.everyWrite = options.crashSafe ?? false;
    return writer;
  }

  /** Bytes of audio written so far. */
  get bytes(): number {
    return this.dataBytes;
  }

  write(pcm: Buffer): void {
    if (this.fd === null || pcm.length === 0) return;
    writeSync(this.fd, pcm, 0, pcm.length, HEADER_BYTES + this.dataBytes);
    this.dataBytes += pcm.length;
    if (this.everyWrite) this.patch();
  }

  private patch(): void {
    if (this.fd === null || this.patchedAt === this.dataBytes) return;
    const header = wavHeader(this.sampleRate, this.channels, this.dataBytes);
    writeSync(this.fd, header, 0, HEADER_BYTES, 0);
    this.patchedAt = this.dataBytes;
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  /** Finalises the header and closes; safe to call from exit handlers, and more than once. */
  closeSync(): void {
    if (this.fd === null) return;
    clearInterval(this.timer);
    this.patch();
    closeSync(this.fd);
    this.fd = null;
  }
}
