/**
 * The far end's placement on the mic's timeline (src/audio/echo/reference-timeline.ts): acks that
 * come late and then in a burst (a loaded machine) must not tear the reference apart, while a real
 * pause in playback must leave silence where it was.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceTimeline } from '../src/audio/echo/reference-timeline.js';

const CHUNK = 320; // 20 ms at 16 kHz

/** Chunk k holds the value k + 1 everywhere, so positions can be read back. */
const chunk = (k: number): Float64Array => new Float64Array(CHUNK).fill(k + 1);

describe('reference timeline', () => {
  it('keeps chunks sample-continuous when their acks jitter (one 60 ms late, then a burst)', () => {
    const timeline = new ReferenceTimeline();
    const ackMs = [0, 20, 40, 100, 100.2, 100.4, 120, 140];
    ackMs.forEach((ms, k) => timeline.write(chunk(k), ms * 16));
    for (let k = 0; k < ackMs.length; k += 1) {
      expect(timeline.at(k * CHUNK)).toBe(k + 1);
      expect(timeline.at(k * CHUNK + CHUNK - 1)).toBe(k + 1);
    }
  });

  it('leaves silence for a real pause (the next chunks stay late), even if it is only 40 ms', () => {
    const timeline = new ReferenceTimeline();
    const ackMs = [0, 20, 40, /* pause of 40 ms */ 100, 120, 140, 160, 180];
    ackMs.forEach((ms, k) => timeline.write(chunk(k), ms * 16));
    expect(timeline.at(3 * CHUNK - 1)).toBe(3);
    expect(timeline.at(3 * CHUNK + 10)).toBe(0); // the pause
    expect(timeline.at(100 * 16)).toBe(4); // the chunk after it, where its ack says
    expect(timeline.at(180 * 16 + CHUNK - 1)).toBe(8);
  });

  it('reads nothing before the first chunk, after the last, or from the future', () => {
    const timeline = new ReferenceTimeline();
    expect(timeline.at(0)).toBe(0);
    timeline.write(chunk(0), 16000);
    expect(timeline.at(15999)).toBe(0);
    expect(timeline.at(16000 + CHUNK)).toBe(0);
    expect(timeline.interpolated(16000 + 100.5)).toBeCloseTo(1, 6);
  });
});
