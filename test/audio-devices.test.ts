/**
 * The audio seam through real PortAudio streams on a virtual sound card: the speaker plays bursty
 * deltas gap-free, flush() stops it within a period and says when it falls silent, its queue is capped,
 * the microphone delivers paced 16 kHz frames, everything runs in one audio host process whose banners
 * never reach the terminal, and a dying sound server is reported, not hung on.
 */
import { createHook } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_QUEUE_MS } from '../src/audio/byte-queue.js';
import { listDevices, resolveDevice, type DeviceList } from '../src/audio/devices.js';
import { acquireHost } from '../src/audio/host/client.js';
import { Kind, RecordReader } from '../src/audio/host/wire.js';
import { openMicrophone } from '../src/audio/microphone.js';
import { openSpeaker } from '../src/audio/speaker.js';
import type { AudioFrame, FlushReport } from '../src/audio/types.js';
import type { HydraError } from '../src/errors.js';
import { activeSpans, longestQuiet, startVirtualAudio, type VirtualAudio } from './support/virtual-audio.js';

let audio: VirtualAudio;
let devices: DeviceList;

beforeAll(async () => {
  audio = await startVirtualAudio();
  Object.assign(process.env, audio.env);
  devices = await listDevices();
}, 30_000);
afterAll(async () => {
  await audio?.stop();
});

/** Pids of this process's audio hosts (children running the host script). */
function audioHosts(): number[] {
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('audio/host/main.js');
    } catch {
      return false; // already gone
    }
  });
}

/** A continuous 440 Hz tone at about -12 dBFS: no silent stretch anywhere in it. */
function tone(ms: number, rate = 48000): Buffer {
  const samples = Math.round((ms * rate) / 1000);
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i += 1) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  return out;
}

describe('devices', () => {
  it('lists the virtual devices with the defaults, and resolves ids and names', () => {
    expect(devices.devices.map((d) => d.name)).toEqual(expect.arrayContaining(['vmic', 'vspk', 'default']));
    expect(resolveDevice(devices, undefined, 'out').name).toBe('default');
    expect(resolveDevice(devices, 'vspk', 'out').name).toBe('vspk');
    const vmic = devices.devices.find((d) => d.name === 'vmic')!;
    expect(resolveDevice(devices, String(vmic.id), 'in').name).toBe('vmic');
    expect(() => resolveDevice(devices, 'nope', 'in')).toThrow(/no input device named "nope".*|input devices:/);
    expect(() => resolveDevice(devices, '99', 'out')).toThrowError(expect.objectContaining({ code: 'audio-device' }));
    expect(() => resolveDevice(devices, 'v', 'out')).toThrow(/matches several/);
  });
});

describe('speaker', () => {
  it('plays deltas that arrive 10x faster than real time without gaps, and knows what it played', async () => {
    const device = resolveDevice(devices, undefined, 'out');
    const speaker = await openSpeaker(device, 48000);
    const capture = audio.capture();
    const idle = new Promise<void>((resolve) => speaker.onIdle(resolve));
    speaker.markResponse();
    // 3 s of reply in 40 ms deltas, delivered in bursts at 10x real time (as the server sends them).
    const reply = tone(3000);
    const delta = (40 * 48000 * 2) / 1000;
    for (let offset = 0; offset < reply.length; offset += delta * 10) {
      for (let k = 0; k < 10 && offset + k * delta < reply.length; k += 1) {
        speaker.write(reply.subarray(offset + k * delta, Math.min(reply.length, offset + (k + 1) * delta)));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(speaker.idle()).toBe(false);
    await idle;
    expect(speaker.playedMs()).toBeCloseTo(3000, -1);
    const samples = await capture.until((s) => {
      const spans = activeSpans(s);
      const last = spans.at(-1);
      return last !== undefined && s.length - last[1] > 48000 * 0.3;
    });
    await capture.stop();
    await speaker.close();
    const spans = activeSpans(samples, { mergeMs: 200 });
    expect(spans).toHaveLength(1);
    const [start, end] = spans[0]!;
    expect((end - start) / 48).toBeGreaterThan(2900);
    expect((end - start) / 48).toBeLessThan(3100);
    // No gap longer than one 20 ms chunk inside the reply (a sine crosses zero for a sample or two).
    expect(longestQuiet(samples, start, end, 200) / 48).toBeLessThan(20);
  });

  it('flush() drops seconds of queued reply and hands PortAudio at most one more chunk', async () => {
    const device = resolveDevice(devices, 'vspk', 'out');
    const speaker = await openSpeaker(device, 48000);
    const capture = audio.capture();
    speaker.markResponse();
    speaker.write(tone(10_000));
    let playedAtFlush = 0;
    await new Promise<void>((resolve) => {
      speaker.onPlayed = () => {
        if (speaker.playedMs() >= 500 && playedAtFlush === 0) {
          playedAtFlush = speaker.playedMs();
          resolve();
        }
      };
    });
    const dropped = speaker.flush();
    expect(dropped).toBeGreaterThan(9000);
    expect(speaker.idle()).toBe(true);
    // Wait until the monitor shows the reply has stopped (300 ms of silence after it).
    const samples = await capture.until((s) => {
      const last = activeSpans(s).at(-1);
      return last !== undefined && s.length - last[1] > 48000 * 0.3;
    });
    expect(speaker.residueAfterFlushMs()).toBeLessThanOrEqual(20);
    await capture.stop();
    await speaker.close();
    const spans = activeSpans(samples, { mergeMs: 200 });
    const heard = spans.reduce((sum, [a, b]) => sum + (b - a), 0) / 48;
    // What was heard is what had played, plus the device's own buffer — nowhere near the 10 s queued.
    expect(heard).toBeLessThan(playedAtFlush + 200);
  });
});

describe('speaker: no timer while idle', () => {
  it('runs its watchdog only while audio waits: an open, idle speaker keeps no timer', async () => {
    // Every Timeout created from here on, and whether it is still pending.
    const pending = new Set<number>();
    const hook = createHook({
      init: (id, type) => void (type === 'Timeout' && pending.add(id)),
      destroy: (id) => void pending.delete(id),
    }).enable();
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      const speaker = await openSpeaker(resolveDevice(devices, undefined, 'out'), 48000);
      await turn(); // destroy hooks run after the tick that clears a timer
      expect(pending.size).toBe(0); // open and idle: nothing ticking
      const idle = new Promise<void>((resolve) => speaker.onIdle(resolve));
      speaker.write(tone(300));
      expect(pending.size).toBe(1); // the watchdog, while audio waits for acks
      await idle;
      await turn();
      expect(pending.size).toBe(0); // played out: the watchdog is gone, not left ticking
      speaker.write(tone(100));
      speaker.flush();
      await turn();
      expect(pending.size).toBe(0); // a flush leaves nothing waiting either
      await speaker.close();
    } finally {
      hook.disable();
    }
  });
});

describe('speaker: barge-in report and queue cap', () => {
  it('reports after a flush when the last reply sample entered PortAudio, and the output latency', async () => {
    const speaker = await openSpeaker(resolveDevice(devices, undefined, 'out'), 48000);
    speaker.write(tone(3000));
    await new Promise<void>((resolve) => {
      speaker.onPlayed = () => {
        if (speaker.playedMs() >= 300) resolve();
      };
    });
    const reported = new Promise<FlushReport>((resolve) => {
      speaker.onFlushed = resolve;
    });
    expect(speaker.lastFlush()).toBeUndefined();
    expect(speaker.flush()).toBeGreaterThan(2000);
    const report = await reported;
    expect(speaker.lastFlush()).toEqual(report);
    // At most one period (20 ms) was ahead of PortAudio's callback: it is taken within a period or two.
    expect(report.residueMs).toBeGreaterThanOrEqual(0);
    expect(report.residueMs).toBeLessThan(80);
    expect(report.outputLatencyMs).toBe(40);
    expect(speaker.residueAfterFlushMs()).toBeLessThanOrEqual(20);
    // Flushing an idle speaker: nothing was playing, so it is silent at once.
    const idle = new Promise<FlushReport>((resolve) => {
      speaker.onFlushed = resolve;
    });
    speaker.flush();
    expect((await idle).residueMs).toBe(0);
    await speaker.close();
  });

  it('caps its queue when the server sends 100x faster than real time: drops the excess, warns once', async () => {
    const speaker = await openSpeaker(resolveDevice(devices, undefined, 'out'), 48000);
    const warnings: string[] = [];
    speaker.onWarning = (message) => warnings.push(message);
    const delta = tone(40);
    // 2 s at 100x real time: 200 s of audio, 1 s of it every 10 ms.
    const started = performance.now();
    while (performance.now() - started < 2000) {
      for (let i = 0; i < 25; i += 1) speaker.write(delta);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const queuedMs = speaker.flush();
    expect(queuedMs).toBeLessThanOrEqual(MAX_QUEUE_MS);
    expect(queuedMs).toBeGreaterThan(MAX_QUEUE_MS - 3000);
    expect(warnings).toHaveLength(1);
    expect(speaker.playedMs()).toBeGreaterThan(1000); // it kept playing meanwhile
    await speaker.close();
  });
});

describe('one audio host', () => {
  it('runs the microphone and the speaker in one host process, both directions at once', async () => {
    const mic = await openMicrophone(resolveDevice(devices, undefined, 'in'), { frameMs: 20 });
    const speaker = await openSpeaker(resolveDevice(devices, undefined, 'out'), 48000);
    expect(audioHosts()).toHaveLength(1);
    const frames: AudioFrame[] = [];
    await mic.start((frame) => frames.push(frame), () => undefined);
    const idle = new Promise<void>((resolve) => speaker.onIdle(resolve));
    speaker.write(tone(1500));
    await Promise.all([idle, audio.speak('test/fixtures/hello-16k.wav')]);
    expect(speaker.playedMs()).toBeCloseTo(1500, -1);
    const loud = frames.filter((frame) => new Int16Array(frame.pcm.buffer, frame.pcm.byteOffset, 320).some((v) => Math.abs(v) > 1000));
    expect(loud.length * 20).toBeGreaterThan(1000);
    await Promise.all([mic.close(), speaker.close()]);
  });

  it('sends each playback ack with the next mic chunk (one wake-up of this process per period), ack first', async () => {
    const mic = await openMicrophone(resolveDevice(devices, undefined, 'in'), { frameMs: 20 });
    const speaker = await openSpeaker(resolveDevice(devices, undefined, 'out'), 48000);
    const host = acquireHost(); // the one both streams run in
    // What reaches this process, chunk by chunk: the record kinds of each read of the audio pipe.
    const reads: number[][] = [];
    const pipe = (host as unknown as { audio: Socket }).audio;
    const onData = (chunk: Buffer) => {
      const kinds: number[] = [];
      new RecordReader((record) => kinds.push(record.kind)).push(chunk);
      reads.push(kinds);
    };
    pipe.on('data', onData);
    const played: number[] = [];
    speaker.onPlayed = (_pcm, at) => played.push(at);
    await mic.start(() => undefined, () => undefined);
    const idle = new Promise<void>((resolve) => speaker.onIdle(resolve));
    speaker.write(tone(1000));
    await idle;
    pipe.off('data', onData);
    host.release();
    await Promise.all([mic.close(), speaker.close()]);
    // Acks before the mic's first chunk go alone (nothing to ride with); from then on, each arrived in
    // the same read as a mic chunk, right before it (a late mic chunk may let one go alone).
    const first = reads.findIndex((kinds) => kinds.includes(Kind.data));
    const acks = reads.slice(first).flatMap((kinds) => kinds.flatMap((kind, i) => (kind === Kind.ack ? [kinds[i + 1] === Kind.data] : [])));
    expect(acks.length).toBeGreaterThanOrEqual(40); // one per 20 ms period of the 1 s tone
    expect(acks.filter(Boolean).length).toBeGreaterThanOrEqual(acks.length - 2);
    // The acks still say when each period was handed to PortAudio: 20 ms apart once the stream's own
    // buffer is full (the first few periods go in at once), not when the acks arrived.
    const steady = played.slice(5);
    const gaps = steady.slice(1).map((at, i) => at - steady[i]!);
    expect(gaps.filter((gap) => Math.abs(gap - 20) > 5).length).toBeLessThanOrEqual(3);
  });

  it('keeps naudiodon banners and alsa-lib noise off the terminal, and never keeps the process alive', async () => {
    const live = pathToFileURL(resolve('dist/src/audio/live.js')).href;
    const script = `
      import { LiveAudio } from ${JSON.stringify(live)};
      const live = new LiveAudio({});
      const mic = await live.microphone(20);
      const speaker = await live.speaker(48000);
      await mic.start(() => undefined, (error) => console.log('mic error', error.message));
      const idle = new Promise((resolve) => speaker.onIdle(resolve));
      speaker.write(Buffer.alloc(19200, 1));
      await idle;
      await Promise.all([mic.close(), speaker.close()]);
      process.stdout.write('done');`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...audio.env }, timeout: 15_000 });
    expect(stdout).toBe('done');
    expect(stderr).toBe('');
  });
});

describe('microphone', () => {
  it('delivers 20 ms frames of 16 kHz mono at real time, carrying what was spoken', async () => {
    const mic = await openMicrophone(resolveDevice(devices, undefined, 'in'), { frameMs: 20 });
    expect(mic.deviceRate).toBe(16000);
    const frames: AudioFrame[] = [];
    const errors: HydraError[] = [];
    await mic.start((frame) => frames.push(frame), (error) => errors.push(error));
    await audio.speak('test/fixtures/hello-16k.wav');
    const spoken = frames.length;
    await mic.close();
    expect(errors).toEqual([]);
    expect(frames.every((frame) => frame.pcm.length === 640)).toBe(true);
    // paplay took the file's length (~3.2 s) in real time: one frame per 20 ms. Counted from the 10th
    // frame: the stream's first reads can come in a burst (stamped together) when the host starts late.
    const steady = frames.slice(10, spoken);
    const span = steady.at(-1)!.at - steady[0]!.at;
    expect(spoken).toBeGreaterThan(140);
    expect(steady.length - 1).toBeGreaterThan(span / 20 - 5);
    expect(steady.length - 1).toBeLessThan(span / 20 + 5);
    const loud = frames.filter((frame) => {
      const s = new Int16Array(frame.pcm.buffer, frame.pcm.byteOffset, 320);
      return s.some((v) => Math.abs(v) > 1000);
    });
    expect(loud.length * 20).toBeGreaterThan(1000);
  });
});

describe('device loss', () => {
  it('reports a dead sound server on both streams instead of hanging', async () => {
    const mic = await openMicrophone(resolveDevice(devices, undefined, 'in'), { frameMs: 20 });
    const speaker = await openSpeaker(resolveDevice(devices, undefined, 'out'), 48000);
    const micError = new Promise<HydraError>((resolve) => void mic.start(() => undefined, resolve));
    const speakerError = new Promise<HydraError>((resolve) => {
      speaker.onError = resolve;
    });
    speaker.write(tone(5000));
    await audio.killServer();
    expect(audioHosts()).toHaveLength(1);
    const [a, b] = await Promise.all([micError, speakerError]);
    expect(a.code).toBe('audio-device');
    expect(a.message).toMatch(/microphone stopped/);
    expect(b.code).toBe('audio-device');
    expect(b.message).toMatch(/speaker stopped/);
    await Promise.all([mic.close(), speaker.close()]);
    expect(audioHosts()).toHaveLength(0); // the hung host was killed, not left behind
  });
});
