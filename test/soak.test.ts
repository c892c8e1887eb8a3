/**
 * A short soak (bench/stress.ts runs the long one): dozens of accelerated turns with tool calls and
 * barge-ins through the real engine and simulator. Every turn is answered, the barge-ins interrupt,
 * and when it is over the process holds no more handles than before and its memory has not run away.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { stress } from './support/stress.js';

// Memory is compared after a full gc (stress() calls globalThis.gc when there is one): expose it here,
// as `node --expose-gc` does for bench/stress.ts.
const scope = globalThis as { gc?: () => void };
if (typeof scope.gc !== 'function') {
  setFlagsFromString('--expose-gc');
  scope.gc = runInNewContext('gc') as () => void;
}

describe('soak', () => {
  it('60 turns with tool calls and barge-ins: all answered, handles back to baseline, memory bounded', async () => {
    const result = await stress({ turns: 60, speed: 10, toolEvery: 3, bargeEvery: 4, sampleEvery: 10 });
    expect(result.outcome).toBe('user-quit');
    // Every ordinary turn is answered (stress() waits for each answer); a reply that is spoken over may be
    // cut before its first audio, so it has no V2V.
    expect(result.answered).toBeGreaterThanOrEqual(result.turns - result.bargeIns);
    expect(result.toolCalls).toBeGreaterThanOrEqual(15);
    expect(result.bargeIns).toBe(14);
    expect(result.interruptions).toBeGreaterThanOrEqual(7); // most barge-ins land while audio is still playing
    expect(result.anomalies).toBe(0);
    // The chat, its socket, timers and the simulator are gone: no handle is left behind.
    expect(result.samples.some((s) => s.handles > result.baseline.handles)).toBe(true); // (it did hold some while running)
    expect(result.after.handles, result.after.kinds.join(', ')).toBeLessThanOrEqual(result.baseline.handles);
    // Generous: a leak of even a few KB per turn over hundreds of turns shows in bench/stress.ts; here
    // the bound catches gross growth (e.g. every frame or every reply kept).
    expect(result.after.rssMB - result.baseline.rssMB).toBeLessThan(40);
    // Sampled every 10 turns (after gc): the heap at the end is near where it was after warm-up.
    expect(result.samples.map((s) => s.turn)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(result.samples.at(-1)!.heapMB - result.samples[1]!.heapMB).toBeLessThan(5);
  }, 90_000);
});
