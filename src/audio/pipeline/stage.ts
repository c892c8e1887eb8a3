/**
 * The audio pipeline's pieces. A mic frame runs straight down through `MicStage`s (device → mute →
 * echo → meters → taps → encoder → socket); played audio runs straight up through `PlayTap`s
 * (device → meters, echo reference, recorder). Each stage is small and does one thing.
 */
import type { AudioFrame } from '../types.js';

/** One step on the way to the socket: frame in, frame out (the same frame when it changes nothing). */
export type MicStage = { readonly name: string; process(frame: AudioFrame): AudioFrame };

/** Audio as it was handed to the speaker (silence excluded), at `sampleRate`. */
export type PlayTap = (pcm: Buffer, at: number, sampleRate?: number) => void;

/** A stage that also needs the far end: an echo canceller or guard (its reference is what was played). */
export type EchoStage = MicStage & { readonly playback: PlayTap };

export function runStages(stages: readonly MicStage[], frame: AudioFrame): AudioFrame {
  let current = frame;
  for (const stage of stages) current = stage.process(current);
  return current;
}

/** Every tap hears the same played audio, in order. */
export function fanOut(taps: readonly (PlayTap | null | undefined)[]): PlayTap {
  const live = taps.filter((tap): tap is PlayTap => typeof tap === 'function');
  return (pcm, at, sampleRate) => {
    for (const tap of live) tap(pcm, at, sampleRate);
  };
}
