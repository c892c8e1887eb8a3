/** The audio pieces that need no device: framing, queues, the audio pipe's records, resampling, the clock sink, the echo guard, the recorder. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ByteQueue, MAX_QUEUE_MS } from '../src/audio/byte-queue.js';
import { createClockSink } from '../src/audio/clock-sink.js';
import { EchoGuard } from '../src/audio/echo-guard.js';
import { encodeRecord, Kind, RecordReader, type Record } from '../src/audio/host/wire.js';
import { downmix, Framer, levelDbfs } from '../src/audio/pcm.js';
import { ConversationRecorder } from '../src/audio/recorder.js';
import { createResampler, resampleAll } from '../src/audio/resample.js';
import { readWav } from '../src/audio/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-dsp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sine(freq: number, ms: number, rate: number, amplitude = 10000): Buffer {
  const n = Math.round((ms * rate) / 1000);
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i += 1) out.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate)), i * 2);
  return out;
}

/** RMS level of the middle of a signal (edges hold the filter's start-up). */
const middleDb = (pcm: Buffer): number => levelDbfs(pcm.subarray(Math.floor(pcm.length / 4) & ~1, Math.floor((pcm.length * 3) / 4) & ~1));

describe('framing', () => {
  it('cuts any chunking into exact frames and keeps the remainder', () => {
    const framer = new Framer(640);
    const sizes = [100, 1000, 7, 533, 640, 1];
    const frames = sizes.flatMap((size) => framer.push(Buffer.alloc(size, 1)));
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(frames.every((frame) => frame.length === 640)).toBe(true);
    expect(frames.length).toBe(Math.floor(total / 640));
    expect(framer.rest().length).toBe(total % 640);
  });

  it('downmixes interleaved channels by averaging', () => {
    expect([...downmix(Int16Array.from([100, 300, -50, 50]), 2)]).toEqual([200, 0]);
  });
});

describe('byte queue', () => {
  it('takes any sizes across chunk boundaries, in order, as views where it can', () => {
    const queue = new ByteQueue();
    const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    for (const [a, b] of [[0, 7], [7, 8], [8, 50], [50, 100]] as const) queue.push(bytes.subarray(a, b));
    expect(queue.length).toBe(100);
    const first = queue.take(5);
    expect([...first]).toEqual([0, 1, 2, 3, 4]);
    expect(first.buffer).toBe(bytes.buffer); // a view, not a copy
    expect([...queue.take(10)]).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    const target = Buffer.alloc(20, 0xff);
    expect(queue.takeInto(target, 5)).toBe(15);
    expect([...target.subarray(5)]).toEqual(Array.from({ length: 15 }, (_, i) => 15 + i));
    expect(queue.clear()).toBe(70);
    expect(queue.take(10).length).toBe(0);
  });
});

describe('audio pipe records', () => {
  it('come out whole and in order however the pipe cuts the byte stream', () => {
    const stream = Buffer.concat([
      encodeRecord(Kind.write, 2, 7, 0, 0, Buffer.from([1, 2, 3, 4])),
      encodeRecord(Kind.flush, 2, 8, 0, 0),
      encodeRecord(Kind.ack, 2, 8, 960, 12345.678),
      encodeRecord(Kind.data, 1, 0, 0, 99.5, Buffer.alloc(640, 9)),
    ]);
    for (const cut of [1, 5, 23, 24, 25, 100, stream.length]) {
      const records: Record[] = [];
      const reader = new RecordReader((record) => records.push({ ...record, payload: Buffer.from(record.payload) }));
      for (let offset = 0; offset < stream.length; offset += cut) reader.push(stream.subarray(offset, offset + cut));
      expect(records.map((r) => [r.kind, r.stream, r.a, r.b, r.time, r.payload.length])).toEqual([
        [Kind.write, 2, 7, 0, 0, 4],
        [Kind.flush, 2, 8, 0, 0, 0],
        [Kind.ack, 2, 8, 960, 12345.678, 0],
        [Kind.data, 1, 0, 0, 99.5, 640],
      ]);
      expect([...records[0]!.payload]).toEqual([1, 2, 3, 4]);
    }
  });
});

describe('clock sink', () => {
  it('caps its queue when the server sends 100x faster than real time: drops the excess, warns once', async () => {
    const sink = createClockSink(48000);
    const warnings: string[] = [];
    sink.onWarning = (message) => warnings.push(message);
    const delta = Buffer.alloc(3840, 1); // 40 ms at 48 kHz
    // 2 s at 100x real time: 200 s of audio, 1 s of it every 10 ms.
    const started = performance.now();
    while (performance.now() - started < 2000) {
      for (let i = 0; i < 25; i += 1) sink.write(delta);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const queuedMs = sink.flush();
    expect(queuedMs).toBeLessThanOrEqual(MAX_QUEUE_MS);
    expect(queuedMs).toBeGreaterThan(MAX_QUEUE_MS - 3000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/120 s of audio is waiting.*dropping/);
    // A flush starts a new episode: the next overflow is reported again.
    for (let i = 0; i < 3100; i += 1) sink.write(delta);
    expect(warnings).toHaveLength(2);
    await sink.close();
  });

  it('reports a flush: nothing plays on after it, and there is no device latency', async () => {
    const sink = createClockSink(16000);
    sink.write(Buffer.alloc(32000));
    const report = new Promise((resolve) => {
      sink.onFlushed = resolve;
    });
    expect(sink.flush()).toBeGreaterThan(900);
    expect(await report).toEqual({ residueMs: 0, outputLatencyMs: null });
    expect(sink.lastFlush?.()).toEqual({ residueMs: 0, outputLatencyMs: null });
    await sink.close();
  });
});

describe('resampling (Speex)', () => {
  it('keeps length: 1 s at 44.1 kHz becomes 1 s at 16 kHz, chunk by chunk', async () => {
    const resampler = await createResampler(44100, 16000);
    const input = sine(440, 1000, 44100);
    let out = 0;
    for (let offset = 0; offset < input.length; offset += 882) out += resampler.process(input.subarray(offset, offset + 882)).length;
    out += resampler.flush().length;
    expect(Math.abs(out / 2 - 16000)).toBeLessThan(200);
  });

  it('passes speech frequencies and removes what would alias (a proper low-pass)', async () => {
    const pass = await resampleAll(sine(1000, 500, 48000), 48000, 16000);
    const alias = await resampleAll(sine(11000, 500, 48000), 48000, 16000);
    expect(pass.length / 2).toBe(8000);
    // 1 kHz keeps its level (10000/32768 peak → about -13.3 dBFS RMS).
    expect(middleDb(pass)).toBeGreaterThan(-14.5);
    expect(middleDb(pass)).toBeLessThan(-12);
    // 11 kHz is above the 8 kHz Nyquist of 16 kHz: sample dropping would fold it to 5 kHz at full level.
    expect(middleDb(alias)).toBeLessThan(middleDb(pass) - 40);
  });

  it('upsamples 16 kHz to 48 kHz with the level intact', async () => {
    const up = await resampleAll(sine(500, 400, 16000), 16000, 48000);
    expect(up.length / 2).toBe(19200);
    expect(Math.abs(middleDb(up) - middleDb(sine(500, 400, 48000)))).toBeLessThan(1);
  });
});

describe('echo guard', () => {
  const frame = (db: number): Buffer => sine(300, 20, 16000, Math.round(32768 * Math.SQRT2 * 10 ** (db / 20)));

  it('passes the mic untouched when nothing plays', () => {
    const guard = new EchoGuard();
    const pcm = frame(-30);
    expect(guard.process(pcm, 20, 0, false)).toEqual({ pcm, state: 'open' });
  });

  it('gates echo while playing and for the tail after', () => {
    const guard = new EchoGuard();
    let t = 0;
    for (; t < 1000; t += 20) {
      guard.played(sine(200, 20, 48000), t);
      const decision = guard.process(frame(-25), 20, t, true);
      expect(decision.state).toBe('gated');
      expect(levelDbfs(decision.pcm)).toBe(-100);
    }
    expect(guard.process(frame(-25), 20, t + 100, false).state).toBe('gated');
    expect(guard.process(frame(-25), 20, t + 1000, false).state).toBe('open');
  });

  it('lets a voice well above the learned echo through after ~100 ms, and keeps it open until playback ends', () => {
    const guard = new EchoGuard();
    let t = 0;
    const played = sine(200, 20, 48000, 8000); // about -15 dBFS
    // The first part of the reply: only echo, 30 dB below what plays.
    for (; t < 700; t += 20) {
      guard.played(played, t);
      guard.process(frame(-45), 20, t, true);
    }
    expect(guard.echoReturnLossDb).toBeLessThan(-20);
    const states: string[] = [];
    for (let k = 0; k < 10; k += 1, t += 20) {
      guard.played(played, t);
      states.push(guard.process(frame(-18), 20, t, true).state);
    }
    expect(states.slice(0, 4).every((state) => state === 'gated')).toBe(true);
    expect(states.at(-1)).toBe('barge-through');
    // Even a quiet frame passes now: the user is talking over the model.
    expect(guard.process(frame(-60), 20, t, true).state).toBe('barge-through');
  });

  it('with no echo path at all (headphones), a voice as loud as the playback barges in after calibration', () => {
    const guard = new EchoGuard();
    let t = 0;
    const played = sine(200, 20, 48000, 8000);
    for (; t < 720; t += 20) {
      guard.played(played, t);
      expect(guard.process(Buffer.alloc(640), 20, t, true).state).toBe('gated');
    }
    const states: string[] = [];
    for (let k = 0; k < 8; k += 1, t += 20) {
      guard.played(played, t);
      states.push(guard.process(frame(-16), 20, t, true).state);
    }
    expect(states.at(-1)).toBe('barge-through');
  });

  it('does not mistake loud echo for the user (echo as loud as the playback)', () => {
    const guard = new EchoGuard();
    for (let t = 0; t < 3000; t += 20) {
      guard.played(sine(200, 20, 48000, 8000), t);
      // The echo swings ±6 dB around the playback level.
      const db = -15 + 6 * Math.sin(t / 90);
      expect(guard.process(frame(db), 20, t, true).state).toBe('gated');
    }
  });
});

describe('conversation recorder', () => {
  it('places both sides on one timeline, in stereo 48 kHz, and is a valid WAV at every moment', async () => {
    const path = join(dir, 'conversation.wav');
    let now = 0;
    const recorder = await ConversationRecorder.create(path, { now: () => now });
    // The user speaks for 1 s (20 ms frames at 16 kHz), then silence frames; the model answers at 1.5 s.
    const loud = sine(300, 20, 16000);
    const quiet = Buffer.alloc(640);
    for (let k = 1; k <= 150; k += 1) {
      now = k * 20;
      await recorder.user(k <= 50 ? loud : quiet, now);
      if (k > 75 && k <= 125) await recorder.model(sine(200, 20, 48000), now, 48000);
      if (k === 100) {
        // Mid-recording, the header already describes the data written so far.
        const bytes = readFileSync(path);
        expect(bytes.readUInt32LE(40)).toBe(bytes.length - 44);
      }
    }
    recorder.closeSync();
    const wav = await readWav(path);
    expect(wav.channels).toBe(2);
    expect(wav.sampleRate).toBe(48000);
    const samples = new Int16Array(wav.pcm.buffer, wav.pcm.byteOffset, wav.pcm.length >> 1);
    const activeMs = (channel: 0 | 1): [number, number] => {
      let first = -1;
      let last = -1;
      for (let i = channel; i < samples.length; i += 2) {
        if (Math.abs(samples[i]!) > 1000) {
          if (first < 0) first = i;
          last = i;
        }
      }
      return [first / 2 / 48, last / 2 / 48];
    };
    const [userStart, userEnd] = activeMs(0);
    const [modelStart, modelEnd] = activeMs(1);
    expect(userStart).toBeLessThan(30);
    expect(userEnd).toBeGreaterThan(960);
    expect(userEnd).toBeLessThan(1040);
    // The model's first chunk was handed over at 1.52 s, i.e. it began at 1.5 s.
    expect(modelStart).toBeGreaterThan(1460);
    expect(modelStart).toBeLessThan(1540);
    expect(modelEnd - modelStart).toBeGreaterThan(950);
    expect(modelEnd - modelStart).toBeLessThan(1050);
  });
});
