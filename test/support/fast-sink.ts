/** An audio sink with no device behind it that "plays" its queue `speed`× faster than real time (soak runs). */
import type { AudioSink } from '../../src/audio/types.js';

/** A sink that "plays" `speed`× faster than real time. */
export function fastSink(sampleRate: number, speed: number): AudioSink {
  let queued = 0;
  let played = 0;
  const idle = new Set<() => void>();
  const bytesPerTick = Math.round((sampleRate * 2 * 10 * speed) / 1000);
  const timer = setInterval(() => {
    if (queued === 0) return;
    const step = Math.min(bytesPerTick, queued);
    queued -= step;
    played += step;
    if (queued === 0) for (const listener of [...idle]) listener();
  }, 10);
  return {
    sampleRate,
    write(pcm) {
      queued += pcm.length;
    },
    flush() {
      const dropped = queued;
      queued = 0;
      return (dropped / 2 / sampleRate) * 1000;
    },
    idle: () => queued === 0,
    onIdle(listener) {
      idle.add(listener);
      return () => idle.delete(listener);
    },
    playedMs: () => (played / 2 / sampleRate) * 1000,
    markResponse() {
      played = 0;
    },
    async close() {
      clearInterval(timer);
    },
  };
}
