/**
 * Test support for the echo canceller: the recorded loopback fixtures of test/fixtures/echo (see its
 * README), replayed offline in the order they happened (played chunks and mic frames by timestamp),
 * and the figures the tests assert on (ERLE, near-end attenuation).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EchoCanceller } from '../../src/audio/echo/canceller.js';

const DIR = 'test/fixtures/echo';

export type EchoRun = {
  /** What was handed to the speaker (16 kHz), in chunks with their handover time (ms). */
  played: { at: number; pcm: Int16Array }[];
  /** Mic frames (20 ms, 16 kHz) with their capture time (ms). */
  mic: { at: number; pcm: Int16Array }[];
  /** The played chunks' rate (16 kHz when absent). */
  rate?: number;
};

export function wavSamples(name: string): Int16Array {
  const bytes = readFileSync(join(DIR, name));
  const dataAt = bytes.indexOf('data') + 8;
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset + dataAt, bytes.byteOffset + bytes.length));
}

/** A recorded run; `replies` (cut from a live trace, test/fixtures/echo/cut-trace.ts) has its own far end, at its rate. */
export function loadRun(name: 'echo' | 'echo-unsettled' | 'double-talk' | 'replies'): EchoRun {
  const timing = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as { rate?: number; played: { at: number; samples: number }[]; mic: number[] };
  const far = wavSamples(timing.rate === undefined ? 'far.wav' : `${name}-far.wav`);
  const mic = wavSamples(`${name}-mic.wav`);
  let offset = 0;
  const played = timing.played.map((chunk) => {
    const pcm = far.subarray(offset, offset + chunk.samples);
    offset += chunk.samples;
    return { at: chunk.at, pcm };
  });
  const frame = mic.length / timing.mic.length;
  return { played, mic: timing.mic.map((at, i) => ({ at, pcm: mic.subarray(i * frame, (i + 1) * frame) })), ...(timing.rate === undefined ? {} : { rate: timing.rate }) };
}

const buffer = (pcm: Int16Array): Buffer => Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);

/**
 * Feeds a run through a canceller in time order; `transform` may change the mic frames (to mix in a
 * near end, add DC, clip…) and `playRate`/`playTransform` the reference. Returns the output samples
 * (aligned with the mic) and the per-frame processing times (ms).
 */
export function replay(
  canceller: EchoCanceller,
  run: EchoRun,
  options: { mic?: (pcm: Int16Array, index: number) => Int16Array; played?: (pcm: Int16Array) => { pcm: Int16Array; rate: number } } = {},
): { mic: Int16Array; out: Int16Array; frameMs: number[] } {
  type Event = { at: number; kind: 0 | 1; index: number };
  const events: Event[] = [...run.played.map((p, index) => ({ at: p.at, kind: 0 as const, index })), ...run.mic.map((m, index) => ({ at: m.at, kind: 1 as const, index }))];
  events.sort((a, b) => a.at - b.at || a.kind - b.kind);
  const frames: Int16Array[] = [];
  const outs: Int16Array[] = [];
  const frameMs: number[] = [];
  for (const event of events) {
    if (event.kind === 0) {
      const chunk = run.played[event.index]!;
      const { pcm, rate } = options.played ? options.played(chunk.pcm) : { pcm: chunk.pcm, rate: run.rate ?? 16000 };
      canceller.playback(buffer(pcm), chunk.at, rate);
    } else {
      const frame = run.mic[event.index]!;
      const pcm = options.mic ? options.mic(frame.pcm, event.index) : frame.pcm;
      frames.push(pcm);
      const t = performance.now();
      const out = canceller.process(buffer(pcm), frame.at);
      frameMs.push(performance.now() - t);
      outs.push(new Int16Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length)));
    }
  }
  const join16 = (parts: Int16Array[]): Int16Array => {
    const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.length;
    }
    return all;
  };
  return { mic: join16(frames), out: join16(outs), frameMs };
}

/** Energy of [start, end) in 10 ms blocks whose `select` block is above `thresholdDb` dBFS. */
export function blocksAbove(select: Int16Array, thresholdDb: number, start: number, end: number): number[] {
  const blocks: number[] = [];
  const threshold = (32768 * 10 ** (thresholdDb / 20)) ** 2 * 160;
  for (let b = start; b + 160 <= Math.min(end, select.length); b += 160) {
    let e = 0;
    for (let i = b; i < b + 160; i += 1) e += select[i]! * select[i]!;
    if (e > threshold) blocks.push(b);
  }
  return blocks;
}

export function energy(samples: Int16Array, blocks: number[]): number {
  let e = 0;
  for (const b of blocks) for (let i = b; i < b + 160; i += 1) e += samples[i]! * samples[i]!;
  return e;
}

/** 10·log10 of a ratio of energies. */
export const db = (num: number, den: number): number => 10 * Math.log10((num + 1e-9) / (den + 1e-9));

/** The loudest 10 ms block of [start, end), in dBFS. */
export function peakBlockDb(samples: Int16Array, start: number, end: number): number {
  let best = 0;
  for (let b = start; b + 160 <= Math.min(end, samples.length); b += 160) {
    let e = 0;
    for (let i = b; i < b + 160; i += 1) e += samples[i]! * samples[i]!;
    best = Math.max(best, e / 160);
  }
  return 10 * Math.log10(best / 32768 ** 2 + 1e-12);
}
