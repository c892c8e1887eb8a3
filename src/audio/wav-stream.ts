/**
 * A WAV file, FIFO or device read as a stream of 16 kHz mono PCM16 chunks: header parsed and
 * range-checked up front, then decoded, downmixed and resampled (Speex) piece by piece, so memory
 * stays bounded whatever the length. A FIFO is opened without blocking (O_NONBLOCK, then polled by
 * the event loop): waiting for its writer never makes the process deaf to signals, and `signal`
 * aborts the wait.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { HydraError } from '../errors.js';
import { openPipe, readProblem } from '../text-file.js';
import { downmix } from './pcm.js';
import { createResampler, type Resampler } from './resample.js';
import { ByteReader, decodeSamples, readWavHeader, type WavFormat } from './wav-format.js';

const RATE = 16000;
/** Raw bytes decoded per step: bounded memory, and few enough steps to be cheap. */
const STEP_BYTES = 64 * 1024;

export type WavStream = {
  readonly format: WavFormat;
  /** Length of the audio in ms when the file says (a regular file), null for a FIFO or a device. */
  readonly durationMs: number | null;
  /** The next chunk of 16 kHz mono PCM16; null at the end of the audio. */
  read(): Promise<Buffer | null>;
  close(): void;
};

export type OpenOptions = { signal?: AbortSignal };

/** Opens `path` and reads its header; throws an `input-file` HydraError (exit 14), or `interrupted` on abort. */
export async function openWavStream(path: string, options: OpenOptions = {}): Promise<WavStream> {
  const { stream, regularBytes } = await openInput(path);
  const aborted = abortPromise(options.signal, path);
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let closed = false;
  /** Only the header wait races the abort (a pending race would keep one reaction per chunk for ever). */
  let waiting = true;
  const close = (): void => {
    closed = true;
    stream.destroy();
  };
  const pull = async (): Promise<Buffer | null> => {
    if (closed) return null;
    try {
      const next = await (waiting ? Promise.race([iterator.next(), aborted.promise]) : iterator.next());
      return next.done ? null : next.value;
    } catch (error) {
      if (closed) return null;
      close();
      if (error instanceof HydraError) throw error;
      throw readError(path, error);
    }
  };
  const reader = new ByteReader(pull);
  let format: WavFormat;
  try {
    format = await readWavHeader(reader, path);
  } catch (error) {
    close();
    throw error;
  } finally {
    waiting = false;
    aborted.dispose();
  }
  const decoder = await createDecoder(format, reader, format.dataBytes ?? Infinity);
  const fileAudioBytes = regularBytes === null ? null : Math.min(format.dataBytes ?? Infinity, Math.max(0, regularBytes - reader.consumed));
  return {
    format,
    durationMs: fileAudioBytes === null ? null : decoder.durationMsFor(fileAudioBytes),
    read: decoder.read,
    close,
  };
}

/** Decodes the data chunk step by step; the output length is exactly the input's at 16 kHz. */
async function createDecoder(format: WavFormat, reader: ByteReader, dataBytes: number) {
  const resampler: Resampler = await createResampler(format.sampleRate, RATE);
  let left = dataBytes;
  let carry = Buffer.alloc(0);
  let frames = 0;
  let produced = 0;
  let finished = false;
  const expected = (): number => Math.round((frames * RATE) / format.sampleRate) * 2;
  const read = async (): Promise<Buffer | null> => {
    while (!finished) {
      const chunk = left > 0 ? await reader.chunk(Math.min(STEP_BYTES, left)) : null;
      if (chunk === null) {
        finished = true;
        const tail = format.sampleRate === RATE ? Buffer.alloc(0) : resampler.flush();
        const out = tail.subarray(0, Math.max(0, expected() - produced));
        produced += out.length;
        return out.length > 0 ? out : null;
      }
      left -= chunk.length;
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const whole = bytes.length - (bytes.length % format.blockAlign);
      carry = Buffer.from(bytes.subarray(whole));
      if (whole === 0) continue;
      const mono = downmix(decodeSamples(bytes.subarray(0, whole), format), format.channels);
      frames += mono.length;
      const out = resampler.process(Buffer.from(mono.buffer, mono.byteOffset, mono.byteLength));
      const kept = out.subarray(0, Math.max(0, expected() - produced));
      produced += kept.length;
      if (kept.length > 0) return kept;
    }
    return null;
  };
  return {
    read,
    durationMsFor: (bytes: number) => (Math.floor(bytes / format.blockAlign) / format.sampleRate) * 1000,
  };
}

async function openInput(path: string): Promise<{ stream: Readable; regularBytes: number | null }> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw readError(path, error);
  }
  if (info.isDirectory()) throw new HydraError('input-file', `cannot read ${path}: is a directory`);
  if (info.isFIFO()) {
    try {
      return { stream: openPipe(path), regularBytes: null };
    } catch (error) {
      throw readError(path, error);
    }
  }
  const stream = createReadStream(path, { highWaterMark: STEP_BYTES });
  return { stream, regularBytes: info.isFile() ? info.size : null };
}

function readError(path: string, error: unknown): HydraError {
  return new HydraError('input-file', `cannot read ${path}: ${readProblem(error)}`, { cause: error });
}

function abortPromise(signal: AbortSignal | undefined, path: string): { promise: Promise<never>; dispose(): void } {
  let onAbort = (): void => {};
  const promise = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new HydraError('interrupted', `stopped while waiting for ${path}`));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal?.removeEventListener('abort', onAbort) };
}
