/**
 * Text files the user names (a prompt, an agent config, a scenario, the defaults file), read under
 * bounds. At most `maxBytes` are read: /dev/zero or a runaway generator is refused as soon as it passes
 * the limit, never read into gigabytes of memory. A pipe (a FIFO, or `<(command)` in bash) is opened
 * without blocking and read by the event loop, so waiting for its writer never makes the process deaf
 * to Ctrl-C, and `signal` ends the wait. The synchronous variant reads regular files only.
 * Failures are TextFileErrors whose `why` completes "cannot read <path>: …". The WAV readers share the
 * pipe opening and the wording (`openPipe`, `readProblem`).
 */
import { constants, createReadStream, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';

export class TextFileError extends Error {
  readonly why: string;
  readonly code: string | undefined;
  constructor(path: string, why: string, code?: string) {
    super(`cannot read ${path}: ${why}`);
    this.why = why;
    this.code = code;
  }
}

/** Prompts, agent configs, scenarios and the defaults file are text a person writes: KiB, not megabytes. */
export const CONFIG_FILE_MAX_BYTES = 4 * 1024 * 1024;

export type TextFileOptions = { maxBytes: number; signal?: AbortSignal };

export async function readTextFile(path: string, options: TextFileOptions): Promise<string> {
  const info = await stat(path).catch((error: unknown) => {
    throw fsError(path, error);
  });
  if (info.isFile()) {
    tooLarge(path, info.size, options.maxBytes);
    const text = await readFile(path).catch((error: unknown) => {
      throw fsError(path, error);
    });
    tooLarge(path, text.length, options.maxBytes); // it grew in between
    return text.toString('utf8');
  }
  return readStream(path, info, options);
}

/** Regular files only (a pipe would block the whole process): anything else is a TextFileError. */
export function readTextFileSync(path: string, maxBytes: number): string {
  let info: Stats;
  try {
    info = statSync(path);
  } catch (error) {
    throw fsError(path, error);
  }
  if (!info.isFile()) throw new TextFileError(path, info.isDirectory() ? 'is a directory' : 'not a regular file');
  tooLarge(path, info.size, maxBytes);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw fsError(path, error);
  }
}

function readStream(path: string, info: Stats, { maxBytes, signal }: TextFileOptions): Promise<string> {
  if (info.isDirectory()) throw new TextFileError(path, 'is a directory');
  if (!info.isFIFO() && !info.isCharacterDevice()) throw new TextFileError(path, 'not a regular file or a pipe');
  let stream: Readable;
  try {
    stream = info.isFIFO() ? openPipe(path) : createReadStream(path);
  } catch (error) {
    throw fsError(path, error);
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const finish = (error: Error | null): void => {
      signal?.removeEventListener('abort', onAbort);
      stream.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onAbort = (): void => finish(new TextFileError(path, 'stopped while waiting for it', 'ABORT_ERR'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      chunks.push(chunk);
      if (bytes > maxBytes) finish(new TextFileError(path, `more than ${sizeText(maxBytes)}`));
    });
    stream.once('end', () => finish(null));
    stream.once('error', (error) => finish(fsError(path, error)));
  });
}

function tooLarge(path: string, bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) throw new TextFileError(path, `${sizeText(bytes)}, more than the ${sizeText(maxBytes)} it may be`);
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / (1024 * 1024)).toFixed(1)} MiB` : bytes >= 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} bytes`;
}

/** A FIFO opened without blocking and read by the event loop: waiting for its writer never blocks the process. */
export function openPipe(path: string): Readable {
  return new Socket({ fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
}

/** What a failed read of a file means to a person: `no such file`, `permission denied`, … */
export function readProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? (error instanceof Error ? error.message : String(error));
}

function fsError(path: string, error: unknown): TextFileError {
  return new TextFileError(path, readProblem(error), (error as NodeJS.ErrnoException).code);
}
