/**
 * A WAV file as the microphone: 16 kHz mono frames paced at real time by a drift-free timer,
 * then silence for as long as the session runs (keep-alive, and the silence VAD needs to end a turn).
 */
import { performance } from 'node:perf_hooks';
import type { HydraError } from '../errors.js';
import { bytesForMs } from './pcm.js';
import type { AudioFrame, AudioSource } from './types.js';
import { readWavMono16k } from './wav.js';

export type FileSource = AudioSource & {
  /** Resolves once the whole file has been emitted. */
  readonly ended: Promise<void>;
  /** Length of the file's audio in ms. */
  readonly durationMs: number;
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
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
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
      const startedAt = performance.now();
      let sent = 0;
      if (audio.length === 0) resolveEnded();
      const tick = (): void => {
        if (closed) return;
        const now = performance.now();
        // Emit every frame that is due by now, so timer lateness never slows the stream down.
        const due = Math.floor((now - startedAt) / options.frameMs) + 1;
        while (sent < due && !closed) {
          sent += 1;
          onFrame({ pcm: nextFrame(), at: now });
        }
        const nextAt = startedAt + sent * options.frameMs;
        timer = setTimeout(tick, Math.max(0, nextAt - performance.now()));
      };
      tick();
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
