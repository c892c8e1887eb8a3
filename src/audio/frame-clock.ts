/**
 * The drift-free clock behind every paced source: calls `emit(now)` once per frame period (divided by
 * `speed`), catching up with every frame that is due when a timer fires late, so timer lateness never
 * slows the stream down. Returns a stop function.
 *
 * Per frame it costs one timer re-arm, never a new one: whole-ms delays (Node's timers keep a list per
 * distinct delay; a fractional one made a new list every frame), and one Timeout per delay, refreshed
 * when that delay comes round again (the delay wanders between two or three values around a period).
 */
import { performance } from 'node:perf_hooks';

export function startFrameClock(frameMs: number, emit: (now: number) => void, speed = 1): () => void {
  const startedAt = performance.now();
  let sent = 0;
  let stopped = false;
  // At most one is armed at a time: the next one is armed from inside the tick that just fired.
  const timers = new Map<number, NodeJS.Timeout>();
  const early = Math.min(1, frameMs / speed / 4);
  const tick = (): void => {
    if (stopped) return;
    const now = performance.now();
    // A timer may fire up to a ms before its time (Node arms it from the loop's cached whole-ms clock):
    // a frame that close to due goes now, not after a second wake-up.
    const due = Math.floor(((now + early - startedAt) * speed) / frameMs) + 1;
    while (sent < due && !stopped) {
      sent += 1;
      emit(now);
    }
    if (stopped) return;
    // Rounded up: a timer never fires before the frame is due (Node's timers count whole ms anyway).
    const delay = Math.max(1, Math.ceil(startedAt + (sent * frameMs) / speed - performance.now()));
    const timer = timers.get(delay);
    if (timer) timer.refresh();
    else timers.set(delay, setTimeout(tick, delay));
  };
  tick();
  return () => {
    stopped = true;
    for (const timer of timers.values()) clearTimeout(timer);
  };
}
