/** The mic-side stages: mute, echo handling (guard or canceller), level meter, taps. Each one small. */
import { performance } from 'node:perf_hooks';
import type { EchoGuard } from '../echo-guard.js';
import { levelDbfs } from '../pcm.js';
import type { AudioFrame } from '../types.js';
import type { EchoStage, MicStage, PlayTap } from './stage.js';

/** Muted: silence keeps flowing, so the server's VAD timing and idle timer stay happy. */
export function muteStage(muted: () => boolean): MicStage {
  return { name: 'mute', process: (frame) => (muted() ? { pcm: Buffer.alloc(frame.pcm.length), at: frame.at } : frame) };
}

/** Calls `onLevel` with each frame's level (dBFS) as it passes. */
export function meterStage(onLevel: (db: number) => void): MicStage {
  return {
    name: 'meter',
    process(frame) {
      onLevel(levelDbfs(frame.pcm));
      return frame;
    },
  };
}

/** Hands each frame to `tap` (e.g. the recorder), unchanged. */
export function tapStage(name: string, tap: (frame: AudioFrame) => void): MicStage {
  return {
    name,
    process(frame) {
      tap(frame);
      return frame;
    },
  };
}

/** The half-duplex echo guard: gates the mic while the speaker plays unless the user is clearly louder. */
export function echoGuardStage(guard: EchoGuard, frameMs: number, playing: () => boolean): EchoStage {
  return {
    name: 'echo-guard',
    process: (frame) => ({ pcm: guard.process(frame.pcm, frameMs, performance.now(), playing()).pcm, at: frame.at }),
    playback: (pcm, at) => guard.played(pcm, at),
  };
}

/** What an acoustic echo canceller offers (audio/echo/canceller.ts): frames in, frames out, and the far end. */
export type Canceller = {
  process(pcm: Buffer, at: number): Buffer;
  playback(pcm: Buffer, at: number, sampleRate: number): void;
  /** Without stats, the canceller is taken as converged (no fallback). */
  stats?(): { converged: boolean };
};

/**
 * An echo canceller as one stage: the far-end reference is what was handed to the speaker. Until the
 * canceller has converged (about a second of the model's voice), the `fallback` (the echo guard) gates
 * its output; it hears every frame and every played chunk all along, so it is ready whenever the
 * canceller is not (a new echo path, a divergence).
 */
export function echoCancelStage(canceller: Canceller, fallback: EchoStage | null = null): EchoStage {
  return {
    name: 'echo-cancel',
    process(frame) {
      const cleaned = { pcm: canceller.process(frame.pcm, frame.at), at: frame.at };
      const gated = fallback?.process(cleaned);
      return gated === undefined || (canceller.stats?.().converged ?? true) ? cleaned : gated;
    },
    playback: ((pcm, at, sampleRate) => {
      canceller.playback(pcm, at, sampleRate ?? 48000);
      fallback?.playback(pcm, at, sampleRate);
    }) satisfies PlayTap,
  };
}
