/**
 * A bounded fuzz sample (bench/fuzz.ts runs a million frames and more): recorded server frames,
 * mutated, through the decoder and the session reducer. No exception escapes, the decoder classifies
 * every frame, and the state stays within the reducer's own limits.
 */
import { describe, expect, it } from 'vitest';
import { MAX_OPEN_CALLS } from '../src/session.js';
import { fuzz, loadCorpus, mutate, prng, STATE_CHARS_BOUND } from './support/fuzz.js';

describe('fuzz: mutated server frames', () => {
  it('the corpus is the recorded frames, and mutations are varied and reproducible', () => {
    const corpus = loadCorpus();
    expect(corpus.length).toBeGreaterThan(50);
    const types = [...new Set(corpus.map((line) => (JSON.parse(line) as { type: string }).type))];
    expect(types.length).toBeGreaterThanOrEqual(15);
    const a = Array.from({ length: 200 }, ((rng) => () => mutate(corpus, types, rng))(prng(7)));
    const b = Array.from({ length: 200 }, ((rng) => () => mutate(corpus, types, rng))(prng(7)));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(150);
  });

  for (const seed of [1, 2]) {
    it(`seed ${seed}: 10 000 frames, no exception, every frame classified, state bounded`, () => {
      const stats = fuzz({ frames: 10_000, seed, measureEvery: 1 });
      expect(stats.exceptions).toEqual([]);
      expect(stats.events + stats.unknown + stats.invalid).toBe(stats.frames);
      // The mutations reach all three outcomes and the reducer sees plenty of valid events.
      expect(stats.events).toBeGreaterThan(2_000);
      expect(stats.invalid).toBeGreaterThan(2_000);
      expect(stats.unknown).toBeGreaterThan(0);
      expect(stats.maxOpenCalls).toBeLessThanOrEqual(MAX_OPEN_CALLS);
      expect(stats.maxStaleNoted).toBeLessThanOrEqual(16);
      expect(stats.maxStateChars).toBeLessThan(STATE_CHARS_BOUND);
    });
  }
});
