/**
 * The echo canceller (src/audio/echo) offline on loopback audio recorded once through real PortAudio
 * streams on the virtual sound card at 0 dB coupling (test/fixtures/echo/README.md): how much echo it
 * removes after 2 s of far-end speech, that a near-end talker at the echo's level survives, and that
 * hostile inputs (silence, clipping, DC, clock drift) never make it diverge.
 */
import { describe, expect, it } from 'vitest';
import { createEchoCanceller } from '../src/audio/echo/canceller.js';
import { SincResampler } from '../src/audio/echo/sinc-resampler.js';
import { resampleAll } from '../src/audio/resample.js';
import { echoCancelStage } from '../src/audio/pipeline/stages.js';
import { EnergyVad } from '../src/mock/vad.js';
import { synthVoice } from '../src/mock/voice.js';
import { blocksAbove, db, energy, loadRun, peakBlockDb, replay, wavSamples, type EchoRun } from './support/echo-fixture.js';

const RATE = 16000;

/** Total ERLE over the blocks with echo from 2 s after the first echo on; and the loudest residual block. */
function erleAfter2s(run: EchoRun, options: Parameters<typeof replay>[2] = {}, suppression = true) {
  const canceller = createEchoCanceller({ suppression });
  const result = replay(canceller, run, options);
  const first = blocksAbove(result.mic, -50, 0, result.mic.length)[0]!;
  const blocks = blocksAbove(result.mic, -50, first + 2 * RATE, result.mic.length);
  return {
    erleDb: db(energy(result.mic, blocks), energy(result.out, blocks)),
    residualPeakDb: peakBlockDb(result.out, first + 2 * RATE, result.mic.length),
    vadMs: longestLoudMs(result.out, first + 2 * RATE, result.mic.length),
    result,
    canceller,
  };
}

/** The simulator's VAD: the longest run of 10 ms blocks ≥ −45 dBFS in [start, end), in ms (speech needs 150). */
function longestLoudMs(samples: Int16Array, start: number, end: number): number {
  let run = 0;
  let best = 0;
  for (let b = start; b + 160 <= Math.min(end, samples.length); b += 160) {
    run = peakBlockDb(samples, b, b + 160) >= -45 ? run + 10 : 0;
    best = Math.max(best, run);
  }
  return best;
}

/** The echo run's mic with `near` added from `atSample` on. */
function withNearEnd(near: Int16Array, atSample: number) {
  return (pcm: Int16Array, index: number): Int16Array => {
    const out = new Int16Array(pcm.length);
    for (let i = 0; i < pcm.length; i += 1) {
      const k = index * pcm.length + i - atSample;
      out[i] = Math.max(-32768, Math.min(32767, pcm[i]! + (k >= 0 && k < near.length ? near[k]! : 0)));
    }
    return out;
  };
}

describe('echo canceller on recorded loopback audio (0 dB coupling, 60 ms loopback)', () => {
  it('removes ≥ 30 dB of echo after 2 s of far-end speech, and what is left never looks like speech to the VAD', () => {
    const { erleDb, residualPeakDb, vadMs, result, canceller } = erleAfter2s(loadRun('echo'));
    const linear = erleAfter2s(loadRun('echo'), {}, false).erleDb;
    const sorted = [...result.frameMs].sort((a, b) => a - b);
    console.log(
      `echo fixture: ERLE after 2 s ${erleDb.toFixed(1)} dB (linear filter alone ${linear.toFixed(1)} dB), loudest residual block ${residualPeakDb.toFixed(1)} dBFS, longest run ≥ −45 dBFS ${vadMs} ms, ` +
        `delay ${canceller.stats().delayMs} ms, per 20 ms frame p50 ${sorted[sorted.length >> 1]!.toFixed(3)} ms`,
    );
    expect(erleDb).toBeGreaterThanOrEqual(30);
    expect(vadMs).toBeLessThan(150);
    expect(canceller.stats()).toMatchObject({ converged: true, doubleTalk: false });
    expect(canceller.stats().delayMs).toBeGreaterThan(100);
    expect(canceller.stats().delayMs).toBeLessThan(250);
  });

  it('takes the far end at the speaker’s rate (48 kHz, as the session plays it) and resamples it itself', async () => {
    const run = loadRun('echo');
    const far = wavSamples('far.wav');
    const up = await resampleAll(Buffer.from(far.buffer, far.byteOffset, far.byteLength), RATE, 48000);
    const far48 = new Int16Array(up.buffer, up.byteOffset, up.length >> 1);
    let offset = 0;
    const played = run.played.map((p) => {
      const pcm = far48.subarray(offset, offset + p.pcm.length * 3);
      offset += p.pcm.length * 3;
      return { at: p.at, pcm };
    });
    const { erleDb } = erleAfter2s({ played, mic: run.mic }, { played: (pcm) => ({ pcm, rate: 48000 }) });
    console.log(`48 kHz far end: ERLE after 2 s ${erleDb.toFixed(1)} dB`);
    expect(erleDb).toBeGreaterThanOrEqual(30);
  });

  it('copes with the loopback still settling (its delay jumps in the first seconds)', () => {
    const { erleDb, vadMs } = erleAfter2s(loadRun('echo-unsettled'));
    console.log(`unsettled fixture: ERLE after 2 s ${erleDb.toFixed(1)} dB, longest run ≥ −45 dBFS ${vadMs} ms`);
    expect(erleDb).toBeGreaterThanOrEqual(30);
    expect(vadMs).toBeLessThan(150);
  });

  it('keeps a near-end talker at the echo’s level audible during playback (double talk), then cancels again', () => {
    const near = wavSamples('near.wav');
    const start = Math.round(2.7 * RATE);
    const { result } = erleAfter2s(loadRun('echo'), { mic: withNearEnd(near, start) });
    const nearLine = new Int16Array(result.mic.length);
    nearLine.set(near.subarray(0, Math.min(near.length, result.mic.length - start)), start);
    const talking = blocksAbove(nearLine, -40, 0, nearLine.length);
    const echoBlocks = blocksAbove(result.mic, -50, RATE, start).filter((b) => !talking.includes(b));
    const echoLevel = db(energy(result.mic, echoBlocks) / echoBlocks.length, energy(nearLine, talking) / talking.length);
    const attenuation = db(energy(nearLine, talking), energy(result.out, talking));
    const audible = talking.filter((b) => peakBlockDb(result.out, b, b + 160) >= -45).length;
    const after = blocksAbove(result.mic, -50, start + near.length + RATE / 2, result.mic.length);
    const erleAfter = db(energy(result.mic, after), energy(result.out, after));
    console.log(
      `double talk (echo ${echoLevel.toFixed(1)} dB vs near end): near end attenuated ${attenuation.toFixed(1)} dB, ${audible}/${talking.length} of its 10 ms blocks ≥ −45 dBFS; ERLE after it ${erleAfter.toFixed(1)} dB`,
    );
    expect(Math.abs(echoLevel)).toBeLessThan(3);
    expect(attenuation).toBeLessThan(3);
    expect(audible / talking.length).toBeGreaterThan(0.8);
    expect(longestLoudMs(result.out, start, start + near.length)).toBeGreaterThanOrEqual(150);
    expect(erleAfter).toBeGreaterThan(25);
  });

  it('lets the near end through in a real double-talk recording (both voices in the room at once)', () => {
    const near = wavSamples('near.wav');
    const canceller = createEchoCanceller();
    const { mic, out } = replay(canceller, loadRun('double-talk'));
    // Where the near end is in the capture: the best match of its loudest stretch.
    const offset = locate(mic, near);
    const nearLine = new Int16Array(mic.length);
    nearLine.set(near.subarray(0, Math.min(near.length, mic.length - offset)), offset);
    const talking = blocksAbove(nearLine, -35, 0, mic.length);
    const audible = talking.filter((b) => peakBlockDb(out, b, b + 160) >= -45).length;
    const attenuation = db(energy(nearLine, talking), energy(out, talking));
    console.log(`real double talk: near end at ${(offset / RATE).toFixed(2)} s, attenuated ${attenuation.toFixed(1)} dB, ${audible}/${talking.length} blocks ≥ −45 dBFS`);
    // The simulator's VAD hears it (150 ms of 10 ms blocks ≥ −45 dBFS), and it is barely attenuated.
    expect(longestLoudMs(out, offset, offset + near.length)).toBeGreaterThanOrEqual(150);
    expect(audible / talking.length).toBeGreaterThan(0.7);
    expect(attenuation).toBeLessThan(3);
  });
});

/** Sample offset of `needle` in `haystack` (brute force on a 0.25 s excerpt, 4× decimated then refined). */
function locate(haystack: Int16Array, needle: Int16Array): number {
  const excerpt = Math.round(0.3 * RATE);
  const from = needle.findIndex((v) => Math.abs(v) > 3000);
  const score = (offset: number, step: number): number => {
    let s = 0;
    for (let i = 0; i < excerpt; i += step) s += needle[from + i]! * (haystack[offset + from + i] ?? 0);
    return s;
  };
  let best = 0;
  for (let o = 0; o + from + excerpt < haystack.length; o += 4) if (score(o, 4) > score(best, 4)) best = o;
  let fine = best;
  for (let o = Math.max(0, best - 8); o <= best + 8; o += 1) if (score(o, 1) > score(fine, 1)) fine = o;
  return fine;
}

describe('echo canceller on the simulator’s voice (synthetic echo path)', () => {
  it('locks on a harmonic voice, whose correlation peaks repeat every pitch period, and cancels it', () => {
    // 8 s of the simulator's voice at 48 kHz, handed in 20 ms chunks (acks jittering by up to 6 ms);
    // the mic hears it 153.4 ms later through a path with one reflection, plus a little noise.
    const voice = synthVoice(8000, 48000, 1);
    const v48 = new Int16Array(voice.buffer, voice.byteOffset, voice.length >> 1);
    const v16 = new SincResampler(48000, RATE).process(v48);
    const delay = Math.round(0.1534 * RATE);
    let seed = 1;
    const noise = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * 20;
    const canceller = createEchoCanceller();
    const mic: number[] = [];
    const out: number[] = [];
    for (let f = 0; f < 420; f += 1) {
      if (f < 400) {
        const chunk = v48.subarray(f * 960, (f + 1) * 960);
        canceller.playback(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), 1000 + f * 20 + (f % 3) * 3, 48000);
      }
      const frame = new Int16Array(320);
      for (let i = 0; i < 320; i += 1) {
        const n = f * 320 + i - delay;
        const at = (k: number): number => (k >= 0 && k < v16.length ? v16[k]! : 0);
        frame[i] = Math.round(0.8 * at(n) + 0.2 * at(n - 40) + noise());
      }
      const cleaned = canceller.process(Buffer.from(frame.buffer), 1000 + (f + 1) * 20);
      mic.push(...frame);
      out.push(...new Int16Array(cleaned.buffer, cleaned.byteOffset, 320));
    }
    const micAll = Int16Array.from(mic);
    const outAll = Int16Array.from(out);
    const blocks = blocksAbove(micAll, -50, 3 * RATE, micAll.length);
    const erleDb = db(energy(micAll, blocks), energy(outAll, blocks));
    console.log(`simulator voice: delay ${canceller.stats().delayMs} ms, ERLE after 3 s ${erleDb.toFixed(1)} dB`);
    expect(canceller.stats().delayMs).toBeCloseTo(153.4, 0);
    expect(erleDb).toBeGreaterThanOrEqual(30);
  });
});

describe('echo canceller: hostile inputs never make it diverge', () => {
  /** Every 1 s window of output carries no more energy than the mic (+1 dB), and all samples are finite. */
  function expectNoDivergence(mic: Int16Array, out: Int16Array): void {
    for (let s = 0; s + RATE <= mic.length; s += RATE / 2) {
      const window = Array.from({ length: RATE / 160 }, (_, k) => s + k * 160);
      expect(db(energy(out, window), energy(mic, window))).toBeLessThan(1);
    }
  }

  it('silence on both ends stays silence; far end with a silent mic stays silent', () => {
    const canceller = createEchoCanceller();
    const run = loadRun('echo');
    const { out } = replay(canceller, run, { mic: (pcm) => new Int16Array(pcm.length) });
    expect(Math.max(...out.map(Math.abs))).toBeLessThanOrEqual(1);
    const quiet = createEchoCanceller();
    for (let i = 0; i < 100; i += 1) expect(quiet.process(Buffer.alloc(640), i * 20).equals(Buffer.alloc(640))).toBe(true);
    expect(quiet.stats()).toEqual({ erleDb: 0, delayMs: null, doubleTalk: false, converged: false });
  });

  it('a clipping mic (echo ×8, saturated) does not blow up', () => {
    const clip = (pcm: Int16Array) => pcm.map((v) => Math.max(-32768, Math.min(32767, v * 8)));
    const { mic, out } = replay(createEchoCanceller(), loadRun('echo'), { mic: clip });
    expectNoDivergence(mic, out);
  });

  it('a DC offset on the mic is removed and the echo still cancelled', () => {
    const { erleDb, result } = erleAfter2s(loadRun('echo'), { mic: (pcm) => pcm.map((v) => v + 3000) });
    expect(erleDb).toBeGreaterThan(25);
    const tail = result.out.subarray(result.out.length - RATE);
    expect(Math.abs(tail.reduce((a, b) => a + b, 0) / tail.length)).toBeLessThan(50);
  });

  for (const ppm of [200, -200]) {
    // The drift is measured from the delay estimates and the reference read that much further along.
    it(`a reference whose clock drifts by ${ppm} ppm is still cancelled, without divergence`, () => {
      // The far end as another device clock would have played it: resampled by 1 + ppm·1e-6.
      const resampler = new SincResampler(RATE, RATE * (1 + ppm * 1e-6));
      const drifted = (pcm: Int16Array) => {
        const out = resampler.process(pcm);
        return { pcm: Int16Array.from(out, (v) => Math.round(v)), rate: RATE };
      };
      const { erleDb, result } = erleAfter2s(loadRun('echo'), { played: drifted });
      console.log(`${ppm} ppm drift: ERLE after 2 s ${erleDb.toFixed(1)} dB`);
      expectNoDivergence(result.mic, result.out);
      expect(erleDb).toBeGreaterThan(25);
    });
  }
});

describe('echo canceller: frames', () => {
  it('returns frames of the same length, with no added latency for whole 10 ms blocks', () => {
    for (const frameMs of [20, 30, 40]) {
      const canceller = createEchoCanceller({ frameMs });
      const samples = (frameMs * RATE) / 1000;
      const pcm = Buffer.alloc(samples * 2);
      for (let i = 0; i < samples; i += 1) pcm.writeInt16LE(Math.round(5000 * Math.sin(i / 3)), i * 2);
      const out = canceller.process(pcm, 1000);
      expect(out.length).toBe(pcm.length);
      // No far end yet: the mic goes through (DC notch and pre-emphasis round trip: within a few LSB after the first ms).
      for (let i = 64; i < samples; i += 1) expect(Math.abs(out.readInt16LE(i * 2) - pcm.readInt16LE(i * 2))).toBeLessThan(200);
    }
  });

  it('frames that are not whole blocks (25 ms) come back one block late, same lengths', () => {
    const canceller = createEchoCanceller({ frameMs: 25 });
    const pcm = Buffer.alloc(400 * 2, 0x11);
    const lengths = Array.from({ length: 5 }, (_, i) => canceller.process(pcm, 1000 + i * 25).length);
    expect(lengths).toEqual([800, 800, 800, 800, 800]);
  });

  it('reads the far end the same from a buffer at an odd byte offset (a slice of a larger one)', () => {
    const run = loadRun('echo');
    const aligned = createEchoCanceller();
    const odd = createEchoCanceller();
    let differences = 0;
    replay(aligned, run);
    const outs: Buffer[] = [];
    let next = 0;
    for (const frame of run.mic) {
      while (next < run.played.length && run.played[next]!.at <= frame.at) {
        const chunk = run.played[next++]!;
        const carrier = Buffer.alloc(chunk.pcm.byteLength + 1);
        Buffer.from(chunk.pcm.buffer, chunk.pcm.byteOffset, chunk.pcm.byteLength).copy(carrier, 1);
        odd.playback(carrier.subarray(1), chunk.at, 16000);
      }
      outs.push(odd.process(Buffer.from(frame.pcm.buffer, frame.pcm.byteOffset, frame.pcm.byteLength), frame.at));
    }
    const expected = replay(createEchoCanceller(), run).out;
    const got = Buffer.concat(outs);
    for (let i = 0; i < expected.length; i += 1) if (got.readInt16LE(i * 2) !== expected[i]) differences += 1;
    expect(differences).toBe(0);
    expect(odd.stats()).toEqual(aligned.stats());
  });

  it('reset() forgets the delay and the filter', () => {
    const { canceller } = erleAfter2s(loadRun('echo'));
    expect(canceller.stats().delayMs).not.toBeNull();
    canceller.reset();
    expect(canceller.stats()).toEqual({ erleDb: 0, delayMs: null, doubleTalk: false, converged: false });
  });
});

describe('echo canceller: one reply after another', () => {
  /**
   * The recorded run played twice, 1 s apart, the second time with its chunks stamped `skewMs` later
   * than they played (live, a reply's first chunk may be handed a period before or after the speaker
   * takes it, so each reply's echo path delay differs from the last one's by up to ~20 ms).
   */
  function twoReplies(skewMs: number) {
    const run = loadRun('echo');
    const last = run.mic.at(-1)!.at;
    const gap = last - run.mic[0]!.at + 1000;
    const silence = new Int16Array(run.mic[0]!.pcm.length);
    const filler = Array.from({ length: 49 }, (_, i) => ({ at: last + 20 * (i + 1), pcm: silence }));
    const shifted = run.mic.map((m) => ({ at: m.at + gap, pcm: m.pcm }));
    return {
      run: {
        played: [...run.played, ...run.played.map((p) => ({ at: p.at + gap + skewMs, pcm: p.pcm }))],
        mic: [...run.mic, ...filler.filter((f) => f.at < shifted[0]!.at - 10), ...shifted],
      },
      secondStarts: run.mic.length + filler.filter((f) => f.at < shifted[0]!.at - 10).length,
    };
  }

  it('a new reply whose delay jumped: re-locks within it, and restores the weights that cancelled well', () => {
    const { run, secondStarts } = twoReplies(18);
    const handed = run.played[run.played.length / 2]!.at;
    const secondPlays = run.mic.findIndex((m) => m.at > handed);
    const canceller = createEchoCanceller();
    const convergedAt: boolean[] = [];
    const result = replay(canceller, run, {
      mic: (pcm, index) => {
        convergedAt[index] = canceller.stats().converged;
        return pcm;
      },
    });
    // The second reply: cancelled again from 1 s after its echo starts.
    const start = secondStarts * 320;
    const first = blocksAbove(result.mic, -50, start, result.mic.length)[0]!;
    const blocks = blocksAbove(result.mic, -50, first + RATE, result.mic.length);
    const erle = db(energy(result.mic, blocks), energy(result.out, blocks));
    const earlyBlocks = blocksAbove(result.mic, -50, first + RATE / 4, first + RATE);
    const early = db(energy(result.mic, earlyBlocks), energy(result.out, earlyBlocks));
    console.log(`second reply, 18 ms later: ERLE from 1 s on ${erle.toFixed(1)} dB (0.25–1 s: ${early.toFixed(1)} dB), delay ${canceller.stats().delayMs} ms`);
    // Converged on the first reply; as the second one starts, the misaligned filter shows in the figure.
    expect(convergedAt[secondStarts - 1]).toBe(true);
    expect(convergedAt.slice(secondPlays + 1, secondPlays + 40)).toContain(false);
    expect(erle).toBeGreaterThanOrEqual(30);
    // Early on, the weights it had when it last cancelled well are back at the new delay (15 dB without).
    expect(early).toBeGreaterThan(17);
    expect(canceller.stats().converged).toBe(true);
  });

  it('recorded live (the CLI, two replies, a user at the echo’s level 1.2 s into each): trusted early in each reply, so the simulator hears the user within 300 ms', () => {
    // replies.json: cut from a trace of the live barge-in bench (test/fixtures/echo/README.md). The echo
    // delay the canceller sees moved by one 20 ms period between the replies (64.5 → 43.5 ms).
    const run = loadRun('replies');
    const canceller = createEchoCanceller();
    // The fallback gates every frame: no user at the echo's level gets past the guard, so what the
    // simulator hears is what the stage let out once it trusted the canceller.
    const gate = { name: 'gate', process: (frame: { pcm: Buffer; at: number }) => ({ pcm: Buffer.alloc(frame.pcm.length), at: frame.at }), playback: () => undefined };
    const stage = echoCancelStage(canceller, gate);
    const asCanceller = { ...canceller, process: (pcm: Buffer, at: number) => stage.process({ pcm, at }).pcm, playback: stage.playback };
    const { out } = replay(asCanceller as typeof canceller, run);
    const replyStarts = run.played.filter((chunk, i) => i === 0 || chunk.at - run.played[i - 1]!.at > 300).map((chunk) => chunk.at);
    expect(replyStarts).toHaveLength(2);
    const vad = new EnergyVad();
    const heard: number[] = [];
    const open: number[] = [];
    run.mic.forEach((frame, i) => {
      const pcm = out.subarray(i * 320, (i + 1) * 320);
      if (vad.push(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)).some((event) => event.type === 'start')) heard.push(frame.at);
      if (pcm.some((v) => v !== 0)) open.push(frame.at);
    });
    const per = replyStarts.map((start) => ({
      openMs: Math.round((open.find((at) => at >= start) ?? Infinity) - start),
      heardMs: Math.round((heard.find((at) => at >= start) ?? Infinity) - start),
    }));
    console.log(`two recorded replies: mic open (canceller trusted) after ${per.map((p) => p.openMs).join(' / ')} ms; user heard ${per.map((p) => p.heardMs).join(' / ')} ms after the reply started`);
    for (const { openMs, heardMs } of per) {
      // Trusted well before the user speaks (1.2 s into the reply); nothing heard before them…
      expect(openMs).toBeLessThan(1200);
      expect(heardMs).toBeGreaterThanOrEqual(1200);
      // …and the user within 300 ms (+ paplay's ~32 ms start-up) of their live no-echo onset (the
      // live run timed these same tries at 1.20 s + raw onset: 1.53 s is the 300 ms mark).
      expect(heardMs).toBeLessThanOrEqual(1530);
    }
  });
});
