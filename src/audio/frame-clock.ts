/**
 * The drift-free clock behind every paced source: calls `emit(now)` once per frame period (divided by
 * `speed`), catching up with every frame that is due when a timer fires late, so timer lateness never
 * slows the stream down. Returns a stop function.
 *
 * Per frame it costs one timer: whole-ms delays (Node's timers keep a list per distinct delay; a
 * fractional one made a new list every frame), and the same Timeout re-armed when the delay repeats.
 */
import { performance } from 'node:perf_hooks';

export function startFrameClock(frameMs: number, emit: (now: number) => void, speed = 1): () => void {
  const startedAt = performance.now();
  let sent = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let armedMs = -1;
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
    if (timer !== null && delay === armedMs) timer.refresh();
    else {
      armedMs = delay;
      timer = setTimeout(tick, delay);
    }
  };
  tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
