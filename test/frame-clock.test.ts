/**
 * The paced clocks cost one timer wake-up per frame: Node arms a timer from the loop's cached whole-ms
 * clock, so a fractional delay fired a little early, found no frame due and woke up again 1 ms later
 * (two wake-ups, two Timeouts per frame). Counted here: timers armed vs frames emitted (a loaded machine
 * may still fire one early now and then: a margin, well below the ~1.8 per frame it was).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClockSink } from '../src/audio/clock-sink.js';
import { startFrameClock } from '../src/audio/frame-clock.js';

/** Counts timers armed: new setTimeouts and Timeouts re-armed with refresh(). */
function countTimers(): { armed: () => number } {
  const proto = Object.getPrototypeOf(setTimeout(() => {}, 0)) as { refresh: () => unknown };
  const timeouts = vi.spyOn(globalThis, 'setTimeout');
  const refreshes = vi.spyOn(proto, 'refresh');
  return { armed: () => timeouts.mock.calls.length + refreshes.mock.calls.length };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('paced clocks', () => {
  it('the frame clock arms one timer per frame, and keeps real time', async () => {
    const timers = countTimers();
    let frames = 0;
    const done = new Promise<number>((resolve) => {
      const startedAt = performance.now();
      const stop = startFrameClock(20, () => {
        frames += 1;
        if (frames === 30) {
          stop();
          resolve(performance.now() - startedAt);
        }
      });
    });
    const elapsed = await done;
    // 30 frames: the first at once, the 30th 580 ms later (never early by more than the 1 ms slack).
    expect(elapsed).toBeGreaterThanOrEqual(579);
    expect(timers.armed()).toBeLessThanOrEqual(Math.ceil(frames * 1.3) + 2); // was ~1.8 per frame
  });

  it('the clock sink arms one timer per 20 ms chunk it plays', async () => {
    const sink = createClockSink(16000);
    let chunks = 0;
    sink.onPlayed = () => (chunks += 1);
    const idle = new Promise<void>((resolve) => sink.onIdle(resolve));
    const timers = countTimers();
    sink.write(Buffer.alloc(640 * 25)); // 500 ms
    await idle;
    expect(chunks).toBe(25);
    expect(timers.armed()).toBeLessThanOrEqual(Math.ceil(chunks * 1.3) + 2); // was ~1.8 per chunk
    await sink.close();
  });
});
