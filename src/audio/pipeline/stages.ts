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

/** A gap this long in what was played (ms) starts a new reply: the canceller must earn trust again. */
const REPLY_GAP_MS = 300;
/** The canceller is trusted for the rest of a reply once it has stayed converged this long in it (ms). */
const TRUST_MS = 500;

/**
 * An echo canceller as one stage: the far-end reference is what was handed to the speaker. The
 * `fallback` (the echo guard) decides on the raw mic, as it would alone (a frame it gates is silence,
 * one it lets through goes out cancelled), until the canceller has stayed converged for TRUST_MS of
 * the current reply; from then on, until the reply ends, the cancelled frame always goes out (a user
 * talking over the reply lowers the measured ERLE: that must not shut the mic on them). The first
 * moments of each reply are guarded because the echo path may have moved since the last one (the
 * canceller then loses track and its residual would look like the user). The guard hears every frame
 * and every played chunk all along, so it is ready whenever the canceller is not.
 */
export function echoCancelStage(canceller: Canceller, fallback: EchoStage | null = null): EchoStage {
  let lastPlayedAt = Number.NEGATIVE_INFINITY;
  let convergedSince: number | null = null;
  let trusted = false;
  return {
    name: 'echo-cancel',
    process(frame) {
      const cleaned = { pcm: canceller.process(frame.pcm, frame.at), at: frame.at };
      // A guard stage hands back the very same buffer for a frame it lets through.
      const passed = fallback === null || fallback.process(frame).pcm === frame.pcm;
      const converged = canceller.stats?.().converged ?? true;
      convergedSince = converged ? (convergedSince ?? frame.at) : null;
      if (convergedSince !== null && frame.at - convergedSince >= TRUST_MS) trusted = true;
      return passed || trusted ? cleaned : { pcm: Buffer.alloc(frame.pcm.length), at: frame.at };
    },
    playback: ((pcm, at, sampleRate) => {
      if (at - lastPlayedAt > REPLY_GAP_MS) {
        trusted = false;
        convergedSince = null;
      }
      lastPlayedAt = Math.max(lastPlayedAt, at);
      canceller.playback(pcm, at, sampleRate ?? 48000);
      fallback?.playback(pcm, at, sampleRate);
    }) satisfies PlayTap,
  };
}
