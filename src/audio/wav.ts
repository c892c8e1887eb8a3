/**
 * WAV files. Reading accepts PCM (8–32 bit), IEEE float, A-law and µ-law WAVs (wav-format.ts) and
 * converts; writing streams PCM16 with the RIFF/data sizes patched after every write and on close, so
 * a killed process leaves a valid file, and a full disk leaves a file whose header matches its audio.
 */
import { closeSync, fstatSync, ftruncateSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HydraError } from '../errors.js';
import { readProblem } from '../text-file.js';
import { closeQuietly, describe, openOutputFile, outputError } from './output-file.js';
import { ByteReader, decodeSamples, readWavHeader } from './wav-format.js';
import { openWavStream, type OpenOptions } from './wav-stream.js';

export type WavData = { sampleRate: number; channels: number; pcm: Buffer };

/** Decodes a whole WAV (any supported format) to PCM16, interleaved as stored. */
export async function readWav(path: string): Promise<WavData> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new HydraError('input-file', `cannot read ${path}: ${readProblem(error)}`, { cause: error });
  }
  const reader = ByteReader.of(bytes);
  const format = await readWavHeader(reader, path);
  const data = await reader.read(Math.min(format.dataBytes ?? Infinity, bytes.length));
  const samples = decodeSamples(data.subarray(0, data.length - (data.length % format.blockAlign)), format);
  return { sampleRate: format.sampleRate, channels: format.channels, pcm: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength) };
}

/** The most audio read whole into memory (a scenario turn): 10 minutes, 19.2 MB at 16 kHz. */
export const MAX_WHOLE_WAV_MS = 10 * 60_000;

/**
 * Any WAV as 16 kHz mono PCM16: downmixed, then resampled with a proper low-pass filter (streamed).
 * Held whole, so bounded: a file (or FIFO) longer than `maxMs` is refused — at once when its length
 * is known, else as soon as the limit is passed — never read into gigabytes of memory.
 */
export async function readWavMono16k(path: string, options: OpenOptions & { maxMs?: number } = {}): Promise<Buffer> {
  const maxMs = options.maxMs ?? MAX_WHOLE_WAV_MS;
  const stream = await openWavStream(path, options);
  const tooLong = (): HydraError =>
    new HydraError('input-file', `${path} is longer than ${formatMs(maxMs)}, the most one turn's audio may be (it is held in memory)`, {
      hint: 'cut it first, e.g. sox in.wav out.wav trim 0 60',
    });
  const parts: Buffer[] = [];
  let bytes = 0;
  try {
    if (stream.durationMs !== null && stream.durationMs > maxMs) throw tooLong();
    for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) {
      bytes += chunk.length;
      if (bytes > maxMs * 32) throw tooLong();
      parts.push(chunk);
    }
  } finally {
    stream.close();
  }
  return Buffer.concat(parts);
}

const formatMs = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);

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

/** Files claimed before connecting (`reserveWav`), by absolute path, until a writer takes them over. */
const reserved = new Map<string, { fd: number; path: string }>();

/**
 * Claims `path` now (exit 15 at once if it cannot be written, or exists without `overwrite`) and
 * leaves a valid empty WAV there; a later `WavWriter.open(path)` takes it over. Used for `--output`,
 * whose sample rate is only known at `session.configured`.
 */
export function reserveWav(path: string, options: { overwrite?: boolean; flag?: string } = {}): void {
  const fd = openOutputFile(path, options);
  try {
    writeAll(fd, wavHeader(48000, 1, 0), 0);
  } catch (error) {
    closeQuietly(fd);
    throw outputError(path, describe(error), error);
  }
  reserved.set(resolve(path), { fd, path });
}

/** Gives back claims no writer took (the run ended before any audio): their empty files are removed. */
export function releaseReservedWavs(): void {
  for (const [key, claim] of reserved) {
    reserved.delete(key);
    try {
      if (fstatSync(claim.fd).isFile()) unlinkIfEmpty(claim.path, claim.fd);
    } catch {
      // gone already
    }
    closeQuietly(claim.fd);
  }
}

export type WavWriterOptions = {
  sampleRate: number;
  channels: number;
  /** Replace an existing file (default true; the CLI passes its --force). */
  overwrite?: boolean;
  /** Which option named the file, for messages. */
  flag?: string;
  /** A write failed (disk full, I/O error): the file is finalised up to what was written; later writes are dropped. */
  onError?: (error: HydraError) => void;
};

/**
 * Streams PCM16 to a WAV with synchronous writes and the header patched after each one, so the file
 * is valid at every instant (Ctrl-C, a crash, SIGKILL). A write that fails (a full disk) never throws
 * from `write`: the file is cut to the last whole sample frame written, its header patched to match,
 * and `onError` told once.
 */
export class WavWriter {
  private fd: number | null;
  private dataBytes = 0;
  private failure: HydraError | null = null;
  readonly sampleRate: number;
  readonly channels: number;
  readonly path: string;
  private readonly onError: ((error: HydraError) => void) | undefined;

  private constructor(fd: number, path: string, options: WavWriterOptions) {
    this.fd = fd;
    this.path = path;
    this.sampleRate = options.sampleRate;
    this.channels = options.channels;
    this.onError = options.onError;
  }

  static async open(path: string, options: WavWriterOptions): Promise<WavWriter> {
    const claim = reserved.get(resolve(path));
    if (claim) reserved.delete(resolve(path));
    const fd = claim?.fd ?? openOutputFile(path, { overwrite: options.overwrite ?? true, ...(options.flag ? { flag: options.flag } : {}) });
    try {
      writeAll(fd, wavHeader(options.sampleRate, options.channels, 0), 0);
    } catch (error) {
      closeQuietly(fd);
      throw outputError(path, describe(error), error);
    }
    return new WavWriter(fd, path, options);
  }

  /** Bytes of audio written so far. */
  get bytes(): number {
    return this.dataBytes;
  }

  /** Why writing stopped, if it did. */
  get error(): HydraError | null {
    return this.failure;
  }

  write(pcm: Buffer): void {
    if (this.fd === null || pcm.length === 0) return;
    let written = 0;
    try {
      written = writeAll(this.fd, pcm, HEADER_BYTES + this.dataBytes);
      this.dataBytes += written;
      this.patch();
    } catch (error) {
      this.dataBytes += (error as { written?: number }).written ?? 0;
      this.fail(error);
    }
  }

  private patch(): void {
    if (this.fd === null) return;
    writeAll(this.fd, wavHeader(this.sampleRate, this.channels, this.dataBytes), 0);
  }

  /** Keeps the file true to what reached the disk: whole frames only, header to match. */
  private fail(error: unknown): void {
    const fd = this.fd;
    if (fd === null) return;
    const frame = this.channels * 2;
    this.dataBytes -= this.dataBytes % frame;
    try {
      if (fstatSync(fd).isFile()) ftruncateSync(fd, HEADER_BYTES + this.dataBytes);
      this.patch();
    } catch {
      // the header cannot be fixed either (the device is gone); nothing more to do
    }
    closeQuietly(fd);
    this.fd = null;
    this.failure = outputError(this.path, describe(error), error);
    if (this.onError) this.onError(this.failure);
    else throw this.failure;
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  /** Finalises the header and closes; safe to call from exit handlers, and more than once. */
  closeSync(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    try {
      this.patch();
    } catch (error) {
      this.fail(error);
      return;
    }
    this.fd = null;
    closeSync(fd);
  }
}

/** Writes all of `data` at `position`; a failure carries how much was written before it (`written`). */
function writeAll(fd: number, data: Buffer, position: number): number {
  let written = 0;
  while (written < data.length) {
    try {
      const n = writeSync(fd, data, written, data.length - written, position + written);
      if (n === 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
      written += n;
    } catch (error) {
      throw Object.assign(error as object, { written });
    }
  }
  return written;
}

function unlinkIfEmpty(path: string, fd: number): void {
  const own = fstatSync(fd);
  if (own.size > HEADER_BYTES) return;
  try {
    // Only our own file: with --force another run may have replaced the name since.
    if (statSync(path).ino !== own.ino) return;
    unlinkSync(path);
  } catch {
    // someone else's now, or gone
  }
}
