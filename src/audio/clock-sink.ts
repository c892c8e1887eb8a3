/**
 * A sink with no device: it "plays" its queue at real time on a drift-free 20 ms clock, so barge-in,
 * played time and the end of a reply behave as with a speaker. Used with --output and in tests.
 */
import { performance } from 'node:perf_hooks';
import { bytesForMs, msForBytes } from './pcm.js';
import type { AudioSink } from './types.js';

const TICK_MS = 20;

export function createClockSink(sampleRate: number): AudioSink {
  const queue: Buffer[] = [];
  let queued = 0;
  let played = 0;
  let timer: NodeJS.Timeout | null = null;
  let startedAt = 0;
  let ticks = 0;
  const idleListeners = new Set<() => void>();
  const chunkBytes = bytesForMs(TICK_MS, sampleRate);

  const take = (bytes: number): Buffer => {
    const parts: Buffer[] = [];
    let need = bytes;
    while (need > 0 && queue.length > 0) {
      const head = queue[0]!;
      if (head.length <= need) {
        parts.push(head);
        queue.shift();
        need -= head.length;
      } else {
        parts.push(head.subarray(0, need));
        queue[0] = head.subarray(need);
        need = 0;
      }
    }
    const out = Buffer.concat(parts);
    queued -= out.length;
    return out;
  };

  const stop = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
  };

  const tick = (): void => {
    const due = Math.floor((performance.now() - startedAt) / TICK_MS) + 1;
    while (ticks < due && queued > 0) {
      ticks += 1;
      const chunk = take(chunkBytes);
      played += chunk.length;
      sink.onPlayed?.(chunk, performance.now(), sampleRate);
    }
    if (queued === 0) {
      stop();
      for (const listener of [...idleListeners]) listener();
      return;
    }
    timer = setTimeout(tick, Math.max(0, startedAt + ticks * TICK_MS - performance.now()));
  };

  const sink: AudioSink = {
    sampleRate,
    write(pcm) {
      if (pcm.length === 0) return;
      queue.push(pcm);
      queued += pcm.length;
      if (timer === null) {
        startedAt = performance.now();
        ticks = 0;
        tick();
      }
    },
    flush() {
      const dropped = queued;
      queue.length = 0;
      queued = 0;
      stop();
      return msForBytes(dropped, sampleRate);
    },
    idle: () => queued === 0,
    onIdle(listener) {
      idleListeners.add(listener);
      return () => idleListeners.delete(listener);
    },
    playedMs: () => msForBytes(played, sampleRate),
    markResponse() {
      played = 0;
    },
    async close() {
      stop();
      queue.length = 0;
      queued = 0;
    },
  };
  return sink;
}
