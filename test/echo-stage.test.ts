/**
 * The echo canceller as a pipeline stage (src/audio/pipeline/stages.ts): the echo guard stands in until
 * the canceller has converged, deciding on the raw mic (so a residual that grows when the canceller
 * loses track never looks like the user), and the far end reaches both.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { echoCancelStage, echoGuardStage } from '../src/audio/pipeline/stages.js';
import { EchoGuard } from '../src/audio/echo-guard.js';
import { echoMode } from '../src/audio/pipeline/echo-mode.js';

const tone = (dbfs: number, samples = 320): Buffer => {
  const out = Buffer.alloc(samples * 2);
  const amp = 32768 * 10 ** (dbfs / 20) * Math.SQRT2;
  for (let i = 0; i < samples; i += 1) out.writeInt16LE(Math.round(amp * Math.sin((2 * Math.PI * 440 * i) / 16000)), i * 2);
  return out;
};
const silent = (pcm: Buffer): boolean => pcm.every((byte) => byte === 0);

describe('echoCancelStage', () => {
  it('the guard (on the raw mic) decides until the canceller has stayed converged 500 ms in a reply; then the cancelled frame goes out until the reply ends', () => {
    let converged = false;
    const played: number[] = [];
    // A canceller whose output is a quiet residual, 30 dB under the mic.
    const canceller = {
      process: (pcm: Buffer) => tone(-45, pcm.length / 2),
      playback: (_pcm: Buffer, _at: number, rate: number) => void played.push(rate),
      stats: () => ({ converged }),
    };
    const guardPlayed: number[] = [];
    const guard = echoGuardStage(new EchoGuard(), 20, () => true);
    const stage = echoCancelStage(canceller, { ...guard, playback: (pcm, at, rate) => (guardPlayed.push(at), guard.playback(pcm, at, rate)) });
    // The guard stage reads the real clock: the frames' stamps start there (and run ahead of it). Whole
    // ms, so that 25 steps of 20 are exactly 500 (from a fractional start they can sum to 499.99…).
    let at = Math.round(performance.now());
    const step = (mic: Buffer, play = true): Buffer => {
      at += 20;
      if (play) stage.playback(tone(-15, 960), at, 48000);
      return stage.process({ pcm: mic, at }).pcm;
    };
    // The model speaks; its echo at the same level reaches the mic: gated while not converged…
    for (let i = 0; i < 60; i += 1) expect(silent(step(tone(-15)))).toBe(true);
    // …and for the first 500 ms of convergence; then the cancelled frame goes out.
    converged = true;
    for (let i = 0; i < 25; i += 1) expect(silent(step(tone(-15)))).toBe(true);
    for (let i = 0; i < 5; i += 1) expect(step(tone(-15)).equals(tone(-45))).toBe(true);
    // The user talks over the reply: the measured ERLE falls (not converged), the mic stays open.
    converged = false;
    canceller.process = (pcm: Buffer) => tone(-16, pcm.length / 2);
    for (let i = 0; i < 10; i += 1) expect(step(tone(-14)).equals(tone(-16))).toBe(true);
    // The reply ends; the next one starts: the canceller lost track (a loud residual), the guard,
    // hearing the raw echo at its usual level, keeps the mic shut.
    for (let i = 0; i < 30; i += 1) step(Buffer.alloc(640), false);
    canceller.process = (pcm: Buffer) => tone(-20, pcm.length / 2);
    for (let i = 0; i < 40; i += 1) expect(silent(step(tone(-15)))).toBe(true);
    expect(played.length).toBeGreaterThan(100);
    expect(played.every((rate) => rate === 48000)).toBe(true);
    expect(guardPlayed).toHaveLength(played.length);
  });
});

describe('--echo', () => {
  it('cancel is the default; --echo-guard is guard, --no-echo-guard is off; --echo wins; anything else is a usage error', () => {
    expect(echoMode({})).toBe('cancel');
    expect(echoMode({ echoGuard: true })).toBe('guard');
    expect(echoMode({ echoGuard: false })).toBe('off');
    expect(echoMode({ echoGuard: false, echo: 'cancel' })).toBe('cancel');
    expect(echoMode({ echo: 'guard' })).toBe('guard');
    expect(() => echoMode({ echo: 'loud' })).toThrow(/--echo must be cancel, guard or off/);
  });
});
