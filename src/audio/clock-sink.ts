/**
 * A sink with no device: it "plays" its queue at real time on a drift-free 20 ms clock, so barge-in,
 * played time and the end of a reply behave as with a speaker. Used with --output and in tests.
 * Like the speaker, its queue is capped (MAX_QUEUE_MS): audio beyond it is dropped with one warning.
 *
 * With an `onPlayed` tap, each 20 ms chunk is handed to it when it plays (one timer per chunk). With
 * none, nothing needs the chunks one by one: the position is worked out from the clock whenever it is
 * asked for (idle, played, flush, write), and one timer wakes the sink when the queue runs dry.
 */
import { performance } from 'node:perf_hooks';
import { ByteQueue, MAX_QUEUE_MS, PlaybackCap } from './byte-queue.js';
import { bytesForMs, msForBytes } from './pcm.js';
import type { AudioSink, FlushReport } from './types.js';

const TICK_MS = 20;

export function createClockSink(sampleRate: number, options: { maxQueueMs?: number } = {}): AudioSink {
  const queue = new ByteQueue();
  const cap = new PlaybackCap(options.maxQueueMs ?? MAX_QUEUE_MS, (sampleRate * 2) / 1000);
  let played = 0;
  let timer: NodeJS.Timeout | null = null;
  let startedAt = 0;
  let ticks = 0;
  let report: FlushReport | undefined;
  const idleListeners = new Set<() => void>();
  const chunkBytes = bytesForMs(TICK_MS, sampleRate);

  const stop = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
  };

  /** Plays every chunk due by `now`: handed to the tap, or (without one) just counted. */
  const catchUp = (now: number): void => {
    // Whole-ms timers fire up to a ms early (see frame-clock.ts): a chunk that close to due plays now.
    const due = Math.floor((now + 1 - startedAt) / TICK_MS) + 1;
    while (ticks < due && queue.length > 0) {
      ticks += 1;
      const chunk = queue.take(chunkBytes);
      played += chunk.length;
      sink.onPlayed?.(chunk, now, sampleRate);
    }
  };

  /** Without a tap, the position is brought up to date whenever someone looks at it. */
  const settle = (): void => {
    if (timer !== null && sink.onPlayed === undefined) catchUp(performance.now());
  };

  const tick = (): void => {
    catchUp(performance.now());
    if (queue.length === 0) {
      stop();
      cap.reset();
      for (const listener of [...idleListeners]) listener();
      return;
    }
    // The next chunk with a tap; without one, the last chunk queued (when the queue runs dry).
    const next = sink.onPlayed === undefined ? ticks + Math.ceil(queue.length / chunkBytes) - 1 : ticks;
    timer = setTimeout(tick, Math.max(1, Math.ceil(startedAt + next * TICK_MS - performance.now())));
  };

  const sink: AudioSink = {
    sampleRate,
    write(pcm) {
      settle();
      // Ran dry by the clock just before its timer fired: that episode ends (idle) before this one starts.
      if (timer !== null && queue.length === 0) tick();
      const fits = cap.fit(queue.length, pcm, sink.onWarning);
      if (fits.length === 0) return;
      queue.push(fits);
      if (timer === null) {
        startedAt = performance.now();
        ticks = 0;
        tick();
      }
    },
    flush() {
      settle();
      const dropped = queue.clear();
      stop();
      cap.reset();
      // Nothing of a clock sink outlives the flush, and there is no device behind it.
      report = { residueMs: 0, outputLatencyMs: null };
      const flushed = report;
      queueMicrotask(() => sink.onFlushed?.(flushed));
      return msForBytes(dropped, sampleRate);
    },
    lastFlush: () => report,
    idle: () => {
      settle();
      return queue.length === 0;
    },
    onIdle(listener) {
      idleListeners.add(listener);
      return () => idleListeners.delete(listener);
    },
    playedMs: () => {
      settle();
      return msForBytes(played, sampleRate);
    },
    markResponse() {
      settle();
      played = 0;
    },
    async close() {
      stop();
      queue.clear();
    },
  };
  return sink;
}
