/**
 * Where `--output` and `--record` write, decided before connecting: an existing file is never
 * overwritten unless asked (`--force`), the file is created exclusively (O_EXCL) so two instances can
 * never write one file, and an unwritable path fails at once (exit 15) instead of at the first reply.
 * With `force`, an existing regular file is unlinked first and a new one created: another process
 * still writing the old one keeps its own (now unnamed) file, so the result is never a mix of two.
 * Devices such as /dev/null or /dev/full are written in place; FIFOs and sockets are refused (a WAV
 * header is rewritten at offset 0, which needs a file that can seek).
 */
import { closeSync, constants, lstatSync, openSync, realpathSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { HydraError } from '../errors.js';

export type OutputOptions = { overwrite?: boolean; flag?: string };

/**
 * The policy above, checked without touching anything: the CLI calls it before it starts a simulator or
 * prints a header, so a refused file is the first and only thing the user sees (openOutputFile checks
 * again, race-free, when it creates the file). Returns whether `path` is a device (written in place).
 */
export function checkOutputFile(path: string, options: OutputOptions = {}): boolean {
  const flag = options.flag ?? '--output';
  const existing = statOrNull(path);
  if (existing?.isDirectory()) throw outputError(path, 'is a directory');
  if (existing && (existing.isFIFO() || existing.isSocket())) {
    throw outputError(path, 'is a pipe or socket; a WAV needs a regular file (its header is rewritten as it grows)');
  }
  if (existing && (existing.isCharacterDevice() || existing.isBlockDevice())) return true;
  if (lstatOrNull(path) && !options.overwrite) {
    throw new HydraError('output-file', `${path} already exists; not overwriting it`, { hint: `pass --force to replace it, or choose another ${flag} file` });
  }
  const folder = statOrNull(dirname(resolve(path)));
  if (folder === null || !folder.isDirectory()) throw outputError(path, 'no such folder');
  return false;
}

/** Opens `path` for writing a WAV under the overwrite policy above; returns the fd. */
export function openOutputFile(path: string, options: OutputOptions = {}): number {
  if (checkOutputFile(path, options)) return openOrThrow(path, constants.O_WRONLY);
  if (lstatOrNull(path)) {
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw outputError(path, describe(error));
    }
  }
  return openOrThrow(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
}

/** One line for a write failure: `cannot write out.wav: the disk is full (ENOSPC)`. */
export function outputError(path: string, why: string, cause?: unknown): HydraError {
  return new HydraError('output-file', `cannot write ${path}: ${why}`, { cause });
}

export function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOSPC':
      return 'the disk is full (ENOSPC)';
    case 'EDQUOT':
      return 'the disk quota is exceeded (EDQUOT)';
    case 'EFBIG':
      return 'the file is too large for this file system (EFBIG)';
    case 'ENOENT':
      return 'no such folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'EEXIST':
      return 'it was just created by another process (another hydra-chat writing the same file?)';
    case 'EISDIR':
      return 'is a directory';
    case 'EIO':
      return 'I/O error (EIO)';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/** The same file, even when named differently (`./a.wav`, `a.wav`, through a symlinked folder). */
export function samePath(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

/**
 * Checks before connecting that `--input`, `--output` and `--record` name different files
 * (throws a `usage` HydraError, exit 2).
 */
export function checkDistinctPaths(paths: { input?: string | undefined; output?: string | undefined; record?: string | undefined }): void {
  const named = (['input', 'output', 'record'] as const).filter((key) => paths[key] !== undefined);
  for (let i = 0; i < named.length; i += 1) {
    for (let j = i + 1; j < named.length; j += 1) {
      const [a, b] = [named[i]!, named[j]!];
      if (isDevice(paths[a]!) || !samePath(paths[a]!, paths[b]!)) continue;
      throw new HydraError('usage', `--${a} and --${b} name the same file (${paths[b]}); give each its own file`);
    }
  }
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(resolve(path))), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

function isDevice(path: string): boolean {
  const info = statOrNull(path);
  return info !== null && (info.isCharacterDevice() || info.isBlockDevice());
}

function openOrThrow(path: string, flags: number): number {
  try {
    return openSync(path, flags, 0o644);
  } catch (error) {
    throw outputError(path, describe(error), error);
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** Closes an fd, ignoring errors (it may already be gone). */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
