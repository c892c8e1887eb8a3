/**
 * A WAV file as the microphone: 16 kHz mono frames paced at real time by a drift-free timer,
 * then silence for as long as the session runs (keep-alive, and the silence VAD needs to end a turn).
 */
import type { HydraError } from '../errors.js';
import { startFrameClock } from './frame-clock.js';
import { bytesForMs } from './pcm.js';
import type { AudioFrame, AudioSource } from './types.js';
import { readWavMono16k } from './wav.js';

export type FileSource = AudioSource & {
  /** Resolves once the whole file has been emitted (the first time). */
  readonly ended: Promise<void>;
  /** Length of the file's audio in ms (null: not known, e.g. a stream). */
  readonly durationMs: number | null;
  /** Stops emitting frames until resume(); the position is kept. */
  pause(): void;
  resume(): void;
  /** Remembers the current position as the one rewind() returns to (initially the start). */
  mark(): void;
  /** Goes back to the last mark(): what follows is emitted again. */
  rewind(): void;
  /** Every byte of the file has been emitted (frames now are silence). */
  atEnd(): boolean;
};

const RATE = 16000;

/** Reads the WAV now (so a bad file fails before connecting); frames flow after start(). */
export async function createFileSource(path: string, options: { frameMs: number; leadSilenceMs?: number }): Promise<FileSource> {
  const pcm = await readWavMono16k(path);
  return pcmSource(pcm, options);
}

/** The same source over PCM already in memory (16 kHz mono PCM16). */
export function pcmSource(pcm: Buffer, options: { frameMs: number; leadSilenceMs?: number }): FileSource {
  const frameBytes = bytesForMs(options.frameMs, RATE);
  const lead = Buffer.alloc(bytesForMs(options.leadSilenceMs ?? 0, RATE));
  const audio = Buffer.concat([lead, pcm]);
  let offset = 0;
  let marked = 0;
  let stop: (() => void) | null = null;
  let emit: ((frame: AudioFrame) => void) | null = null;
  let closed = false;
  let paused = false;
  const run = (): void => {
    if (closed || paused || emit === null || stop !== null) return;
    const onFrame = emit;
    stop = startFrameClock(options.frameMs, (now) => onFrame({ pcm: nextFrame(), at: now }));
  };
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));

  const nextFrame = (): Buffer => {
    if (offset >= audio.length) return Buffer.alloc(frameBytes);
    const frame = Buffer.alloc(frameBytes);
    audio.copy(frame, 0, offset, Math.min(audio.length, offset + frameBytes));
    offset += frameBytes;
    if (offset >= audio.length) resolveEnded();
    return frame;
  };

  return {
    frameMs: options.frameMs,
    ended,
    durationMs: (pcm.length / 2 / RATE) * 1000,
    async start(onFrame: (frame: AudioFrame) => void, _onError: (error: HydraError) => void) {
      if (audio.length === 0) resolveEnded();
      emit = onFrame;
      run();
    },
    pause() {
      paused = true;
      stop?.();
      stop = null;
    },
    resume() {
      paused = false;
      run();
    },
    mark() {
      marked = Math.min(offset, audio.length);
    },
    rewind() {
      offset = marked;
    },
    atEnd: () => offset >= audio.length,
    async close() {
      closed = true;
      stop?.();
      stop = null;
    },
  };
}
