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

  it('the frame clock makes one Timeout per distinct delay, not one per re-arm', async () => {
    const created = vi.spyOn(globalThis, 'setTimeout');
    let frames = 0;
    await new Promise<void>((resolve) => {
      // 5 ms frames: every delay it can ask for is a whole number of ms from 1 to 6.
      const stop = startFrameClock(
        20,
        () => {
          frames += 1;
          if (frames === 120) {
            stop();
            resolve();
          }
        },
        4,
      );
    });
    // Was a new Timeout for ~40 % of the frames (each time the delay changed): ~48 here.
    expect(created.mock.calls.length).toBeLessThanOrEqual(6);
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

describe('clock sink without a tap', () => {
  it('keeps time with one timer for the whole queue: played, idle and flush follow the clock', async () => {
    const sink = createClockSink(16000);
    const timers = countTimers();
    const startedAt = performance.now();
    let idleAt = 0;
    const idle = new Promise<void>((resolve) =>
      sink.onIdle(() => {
        idleAt = performance.now() - startedAt;
        resolve();
      }),
    );
    sink.write(Buffer.alloc(640 * 10)); // 200 ms
    sink.write(Buffer.alloc(640 * 15)); // 300 ms more, while the first plays
    expect(sink.idle()).toBe(false);
    await idle;
    expect(sink.idle()).toBe(true);
    // The last of 25 chunks starts at 480 ms: the queue runs dry then (as with a tap), never early.
    expect(idleAt).toBeGreaterThanOrEqual(479);
    expect(sink.playedMs()).toBe(500);
    expect(timers.armed()).toBeLessThanOrEqual(3); // was one per 20 ms chunk (25)
    // Half way through a second reply: played and flushed add up to what was written.
    sink.markResponse();
    sink.write(Buffer.alloc(640 * 50)); // 1 s
    await new Promise((resolve) => setTimeout(resolve, 300));
    const played = sink.playedMs();
    expect(played).toBeGreaterThanOrEqual(280);
    expect(played).toBeLessThan(1000);
    const dropped = sink.flush();
    expect(sink.playedMs() + dropped).toBe(1000);
    expect(sink.idle()).toBe(true);
    await sink.close();
  });
});
