/**
 * A WAV file as the microphone: 16 kHz mono frames paced at real time by a drift-free timer, from
 * `start()` on (the shell starts it at `session.configured`), then silence for as long as the session
 * runs (keep-alive, and the server's VAD needs it to end a turn).
 *
 * The file is streamed (a bounded read-ahead), so a FIFO or an endless stream keeps memory bounded.
 * What was emitted since the last `mark()` is kept so that `rewind()` can speak an unanswered turn
 * again after a reconnect; that history is capped (`replayLimitMs`, default 10 minutes ≈ 19 MB): past
 * it the oldest audio is dropped and `rewind()` goes back only as far as it still has.
 */
import type { HydraError } from '../errors.js';
import { toHydraError } from '../errors.js';
import { startFrameClock } from './frame-clock.js';
import { bytesForMs, msForBytes } from './pcm.js';
import type { AudioFrame, AudioSource } from './types.js';
import { openWavStream } from './wav-stream.js';

export type FileSource = AudioSource & {
  /** Resolves the first time the read position reaches the end of the file's audio. */
  readonly ended: Promise<void>;
  /** Length of the audio in ms, or null when unknown (a FIFO, /dev/zero). */
  readonly durationMs: number | null;
  /** The position is at the end of the audio (after the file, silence frames follow). */
  atEnd(): boolean;
  /** Stop emitting frames (the frame clock stops); the position is kept. */
  pause(): void;
  /** Emit again from the current position, paced from now. */
  resume(): void;
  /** Everything before the current position has been answered: forget it (bounded memory). */
  mark(): void;
  /** Move the position back to the last mark (or the start); returns the ms moved back. */
  rewind(): number;
};

export type FileSourceOptions = {
  frameMs: number;
  leadSilenceMs?: number;
  /** Audio kept for rewind() since the last mark (default 10 minutes). */
  replayLimitMs?: number;
  /** Pacing multiplier for tests and benchmarks (default 1: real time). */
  speed?: number;
  /** Aborts opening (e.g. a FIFO whose writer never comes): rejects with an `interrupted` HydraError. */
  signal?: AbortSignal;
};

const RATE = 16000;
const EMPTY = Buffer.alloc(0);
/** Decoded audio kept ready ahead of the position: the frame clock never waits for the disk. */
const READ_AHEAD_MS = 2000;
const DEFAULT_REPLAY_MS = 10 * 60 * 1000;

/** A pull-based supply of 16 kHz mono PCM16: null at the end. */
type Supply = { read(): Promise<Buffer | null>; close(): void };

/** Opens the file and reads its header now (a bad file fails before connecting); frames flow after start(). */
export async function createFileSource(path: string, options: FileSourceOptions): Promise<FileSource> {
  const stream = await openWavStream(path, options.signal ? { signal: options.signal } : {});
  return streamSource(stream, stream.durationMs, options);
}

/** The same source over PCM already in memory (16 kHz mono PCM16). */
export function pcmSource(pcm: Buffer, options: FileSourceOptions): FileSource {
  let given = false;
  const supply: Supply = { read: async () => (given || pcm.length === 0 ? null : ((given = true), pcm)), close: () => {} };
  return streamSource(supply, msForBytes(pcm.length, RATE), options);
}

function streamSource(supply: Supply, durationMs: number | null, options: FileSourceOptions): FileSource {
  const frameBytes = bytesForMs(options.frameMs, RATE);
  const aheadBytes = bytesForMs(READ_AHEAD_MS, RATE);
  const replayBytes = bytesForMs(options.replayLimitMs ?? DEFAULT_REPLAY_MS, RATE);
  /** Audio between the position and the read-ahead's end (replayed history first after a rewind). */
  const pending = new Chunks();
  /** Audio emitted since the last mark. */
  const history = new Chunks();
  const lead = bytesForMs(options.leadSilenceMs ?? 0, RATE);
  if (lead > 0) pending.push(Buffer.alloc(lead));
  let exhausted = false;
  let reading = false;
  let failure: HydraError | null = null;
  let onFrame: ((frame: AudioFrame) => void) | null = null;
  let onError: ((error: HydraError) => void) | null = null;
  let stop: (() => void) | null = null;
  let paused = false;
  let closed = false;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));

  const atEnd = (): boolean => exhausted && pending.bytes === 0;
  /** Waiters for the first frame's worth of audio (start() does not begin with an underrun). */
  let ready: (() => void)[] = [];
  const notify = (): void => {
    if (pending.bytes < frameBytes && !exhausted) return;
    for (const resolve of ready) resolve();
    ready = [];
  };
  const fill = (): void => {
    if (reading || exhausted || closed || pending.bytes >= aheadBytes) return;
    reading = true;
    void (async () => {
      try {
        while (!closed && !exhausted && pending.bytes < aheadBytes) {
          const chunk = await supply.read();
          if (chunk === null) exhausted = true;
          else pending.push(chunk);
          notify();
        }
      } catch (error) {
        exhausted = true;
        failure = toHydraError(error, 'input-file');
        if (onError) onError(failure);
      } finally {
        reading = false;
        exhausted ||= closed;
        notify();
      }
      if (atEnd()) resolveEnded();
    })();
  };

  const nextFrame = (): Buffer => {
    // Not enough decoded yet (a slow FIFO): silence now, the audio follows when it comes.
    const audio = pending.bytes >= frameBytes || exhausted ? pending.take(Math.min(frameBytes, pending.bytes)) : EMPTY;
    if (audio.length > 0) {
      history.push(audio);
      history.dropOldest(replayBytes);
    }
    if (atEnd()) resolveEnded();
    fill();
    // A whole frame goes out as taken (its own copy, never written to); a short one is padded with silence.
    if (audio.length === frameBytes) return audio;
    const frame = Buffer.allocUnsafe(frameBytes).fill(0);
    audio.copy(frame);
    return frame;
  };

  const run = (): void => {
    if (stop || paused || closed || !onFrame) return;
    const emit = onFrame;
    stop = startFrameClock(options.frameMs, (now) => emit({ pcm: nextFrame(), at: now }), options.speed ?? 1);
  };
  const halt = (): void => {
    stop?.();
    stop = null;
  };

  fill();
  return {
    frameMs: options.frameMs,
    ended,
    durationMs,
    atEnd,
    async start(frameHandler: (frame: AudioFrame) => void, errorHandler: (error: HydraError) => void) {
      if (closed) return;
      onError = errorHandler;
      if (pending.bytes < frameBytes && !exhausted) await new Promise<void>((resolve) => ready.push(resolve));
      if (closed) return;
      onFrame = frameHandler;
      if (failure) errorHandler(failure);
      if (atEnd()) resolveEnded();
      run();
    },
    pause() {
      paused = true;
      halt();
    },
    resume() {
      paused = false;
      run();
    },
    mark() {
      history.clear();
    },
    rewind() {
      const bytes = history.bytes;
      pending.unshift(history.drain());
      return msForBytes(bytes, RATE);
    },
    async close() {
      closed = true;
      halt();
      supply.close();
    },
  };
}

/** A byte queue of Buffers with O(1) push and take from the front. */
class Chunks {
  private parts: Buffer[] = [];
  bytes = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.bytes += chunk.length;
  }

  unshift(chunks: Buffer[]): void {
    this.parts = [...chunks, ...this.parts];
    for (const chunk of chunks) this.bytes += chunk.length;
  }

  /** The first `n` bytes, copied (`into` a buffer) or dropped. */
  take(n: number, into: Buffer | null = Buffer.allocUnsafe(n)): Buffer {
    let done = 0;
    while (done < n) {
      const head = this.parts[0]!;
      const count = Math.min(head.length, n - done);
      into?.set(head.subarray(0, count), done);
      done += count;
      if (count === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(count);
    }
    this.bytes -= n;
    return into ?? Buffer.alloc(0);
  }

  /** Drops the oldest bytes until at most `max` are left. */
  dropOldest(max: number): void {
    if (this.bytes > max) this.take(this.bytes - max, null);
  }

  drain(): Buffer[] {
    const parts = this.parts;
    this.parts = [];
    this.bytes = 0;
    return parts;
  }

  clear(): void {
    this.drain();
  }
}
