/**
 * The drift-free clock behind every paced source: calls `emit(now)` once per frame period (divided by
 * `speed`), catching up with every frame that is due when a timer fires late, so timer lateness never
 * slows the stream down. Returns a stop function.
 */
import { performance } from 'node:perf_hooks';

export function startFrameClock(frameMs: number, emit: (now: number) => void, speed = 1): () => void {
  const startedAt = performance.now();
  let sent = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const tick = (): void => {
    if (stopped) return;
    const now = performance.now();
    const due = Math.floor(((now - startedAt) * speed) / frameMs) + 1;
    while (sent < due && !stopped) {
      sent += 1;
      emit(now);
    }
    if (stopped) return;
    timer = setTimeout(tick, Math.max(0, startedAt + (sent * frameMs) / speed - performance.now()));
  };
  tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
