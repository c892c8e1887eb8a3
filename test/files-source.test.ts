/**
 * The file source: nothing before start(), pause/resume without loss, mark/rewind replaying exactly
 * the same bytes, a bounded replay history, silence after the end, streaming from FIFOs with bounded
 * memory, and an abortable wait for a FIFO's writer.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, readlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileSource, pcmSource, type FileSource } from '../src/audio/file-source.js';
import { readWavMono16k, wavHeader } from '../src/audio/wav.js';
import { HydraError } from '../src/errors.js';

const FRAME_MS = 20;
const FRAME_BYTES = 640;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-files-source-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts a source and collects its frames; `until(n)` resolves once n frames have arrived. */
function collect(source: FileSource): { frames: Buffer[]; until(n: number): Promise<void>; errors: HydraError[] } {
  const frames: Buffer[] = [];
  const errors: HydraError[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  void source.start(
    (frame) => {
      frames.push(Buffer.from(frame.pcm));
      for (const waiter of waiters.filter((w) => frames.length >= w.n)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
    (error) => errors.push(error),
  );
  return {
    frames,
    errors,
    until: (n) => (frames.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

/** Another source's frames as a clock: "this much time passed" without a sleep. */
async function framesElapse(n: number): Promise<void> {
  const clock = pcmSource(Buffer.alloc(0), { frameMs: FRAME_MS, speed: 10 });
  await collect(clock).until(n);
  await clock.close();
}

const audio = randomBytes(FRAME_BYTES * 100); // 2 s of noise: every frame is distinct

describe('file source', () => {
  it('emits nothing before start(): started late, it begins at the first byte', async () => {
    const source = pcmSource(audio, { frameMs: FRAME_MS, speed: 10 });
    await framesElapse(20); // 40 ms of audio time pass before start()
    const run = collect(source);
    await run.until(10);
    await source.close();
    expect(Buffer.concat(run.frames.slice(0, 10))).toEqual(audio.subarray(0, FRAME_BYTES * 10));
  });

  it('pause() stops the frames, resume() continues from the same position', async () => {
    const source = pcmSource(audio, { frameMs: FRAME_MS, speed: 10 });
    const run = collect(source);
    await run.until(10);
    source.pause();
    const paused = run.frames.length;
    await framesElapse(30);
    expect(run.frames.length).toBe(paused);
    source.resume();
    await run.until(paused + 20);
    await source.close();
    const n = run.frames.length;
    expect(Buffer.concat(run.frames)).toEqual(audio.subarray(0, n * FRAME_BYTES));
  });

  it('rewind() goes back to the last mark and replays exactly the same bytes', async () => {
    const source = pcmSource(audio, { frameMs: FRAME_MS, speed: 10, leadSilenceMs: 100 });
    const run = collect(source);
    await run.until(10);
    source.mark();
    const markedAt = run.frames.length;
    await run.until(markedAt + 15);
    const rewoundAt = run.frames.length;
    expect(source.rewind()).toBe((rewoundAt - markedAt) * FRAME_MS);
    await run.until(rewoundAt + (rewoundAt - markedAt) + 5);
    await source.close();
    const said = Buffer.concat(run.frames.slice(markedAt, rewoundAt));
    const again = Buffer.concat(run.frames.slice(rewoundAt, rewoundAt + (rewoundAt - markedAt)));
    expect(again).toEqual(said);
    // …and then it goes on where it had been (frame i is audio frame i - 5, after the lead silence).
    const next = rewoundAt - 5;
    expect(run.frames[rewoundAt + (rewoundAt - markedAt)]).toEqual(audio.subarray(next * FRAME_BYTES, (next + 1) * FRAME_BYTES));
    expect(Buffer.concat(run.frames.slice(0, 5))).toEqual(Buffer.alloc(5 * FRAME_BYTES)); // 100 ms lead silence
  });

  it('without a mark, rewind() goes back to the start; a second rewind() right after moves 0 ms', async () => {
    const source = pcmSource(audio, { frameMs: FRAME_MS, speed: 10 });
    const run = collect(source);
    await run.until(8);
    source.pause();
    const n = run.frames.length;
    expect(source.rewind()).toBe(n * FRAME_MS);
    expect(source.rewind()).toBe(0);
    source.resume();
    await run.until(n + n);
    await source.close();
    expect(Buffer.concat(run.frames.slice(n, 2 * n))).toEqual(audio.subarray(0, n * FRAME_BYTES));
  });

  it('the replay history is capped: past replayLimitMs the oldest is dropped and rewind() returns what it has', async () => {
    const source = pcmSource(audio, { frameMs: FRAME_MS, speed: 10, replayLimitMs: 200 });
    const run = collect(source);
    await run.until(30);
    source.pause();
    const n = run.frames.length;
    expect(source.rewind()).toBe(200);
    source.resume();
    await run.until(n + 10);
    await source.close();
    expect(Buffer.concat(run.frames.slice(n, n + 10))).toEqual(Buffer.concat(run.frames.slice(n - 10, n)));
  });

  it('after the audio: ended resolves, atEnd() is true and silence follows; a rewind leaves the end again', async () => {
    const short = audio.subarray(0, FRAME_BYTES * 5 + 100); // a partial last frame is padded with zeros
    const source = pcmSource(short, { frameMs: FRAME_MS, speed: 10 });
    expect(source.durationMs).toBeCloseTo((short.length / 32000) * 1000, 5);
    const run = collect(source);
    expect(source.atEnd()).toBe(false);
    await source.ended;
    expect(source.atEnd()).toBe(true);
    await run.until(12);
    expect(Buffer.concat(run.frames.slice(0, 6)).subarray(0, short.length)).toEqual(short);
    for (const frame of run.frames.slice(6)) expect(frame).toEqual(Buffer.alloc(FRAME_BYTES));
    source.pause();
    expect(source.rewind()).toBeCloseTo((short.length / 32000) * 1000, 5);
    expect(source.atEnd()).toBe(false);
    await source.close();
  });
});

describe('file source on files and FIFOs', () => {
  it('a WAV file plays exactly the audio readWavMono16k decodes, and knows its duration', async () => {
    const path = join(dir, 'tone.wav');
    execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '24', path, 'synth', '0.5', 'sine', '440', 'sine', '550']);
    const expected = await readWavMono16k(path);
    const source = await createFileSource(path, { frameMs: FRAME_MS, speed: 10 });
    expect(source.durationMs).toBeCloseTo(500, 0);
    const run = collect(source);
    await source.ended;
    await source.close();
    expect(Buffer.concat(run.frames).subarray(0, expected.length)).toEqual(expected);
  });

  it('an endless FIFO (header, then zeros as fast as the pipe takes them) is read only as fast as it plays', async () => {
    const fifo = join(dir, 'endless.fifo');
    execFileSync('mkfifo', [fifo]);
    const header = wavHeader(16000, 1, 0);
    header.writeUInt32LE(0xffffffff, 40);
    const source = createFileSource(fifo, { frameMs: FRAME_MS, speed: 50, replayLimitMs: 1000 });
    const writer = createWriteStream(fifo);
    let written = 0;
    let stopped = false;
    const zeros = Buffer.alloc(64 * 1024);
    writer.write(header);
    const pump = (): void => {
      while (!stopped && writer.write(zeros)) written += zeros.length;
      if (!stopped) written += zeros.length;
    };
    writer.on('drain', pump);
    writer.on('error', () => {});
    pump();
    const opened = await source;
    expect(opened.durationMs).toBeNull();
    const run = collect(opened);
    await run.until(1500); // 30 s of audio
    const played = run.frames.length * FRAME_BYTES;
    // What was taken from the pipe: what played plus the read-ahead (2 s) and the stream buffers.
    expect(written).toBeLessThan(played + 2 * 1024 * 1024);
    opened.pause();
    expect(opened.rewind()).toBe(1000);
    stopped = true;
    await opened.close();
    writer.destroy();
  });

  it('a 1 GB WAV (sparse) is streamed: its duration is known at once and memory does not grow with it', async () => {
    const path = join(dir, 'huge.wav');
    const size = 1024 ** 3;
    writeFileSync(path, wavHeader(16000, 1, size - 44));
    truncateSync(path, size);
    const before = process.memoryUsage().arrayBuffers;
    const source = await createFileSource(path, { frameMs: FRAME_MS, speed: 50 });
    expect(source.durationMs).toBeCloseTo(((size - 44) / 32000) * 1000, 0);
    const run = collect(source);
    await run.until(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    await source.close();
  });

  it('/dev/zero is refused at once (no RIFF header), nothing buffered', async () => {
    const before = process.memoryUsage().arrayBuffers;
    await expect(createFileSource('/dev/zero', { frameMs: FRAME_MS })).rejects.toThrow(/\/dev\/zero is not a usable WAV file: no RIFF\/WAVE header/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('a FIFO carrying a WAV (durationMs null) plays the same audio as the file', async () => {
    const path = join(dir, 'via-fifo.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'u-law', path, 'synth', '0.4', 'sine', '300']);
    const expected = await readWavMono16k(path);
    const fifo = join(dir, 'wav.fifo');
    execFileSync('mkfifo', [fifo]);
    const opening = createFileSource(fifo, { frameMs: FRAME_MS, speed: 10 });
    const writer = createWriteStream(fifo);
    writer.end(Buffer.from(execFileSync('cat', [path])));
    const source = await opening;
    expect(source.durationMs).toBeNull();
    const run = collect(source);
    await source.ended;
    await source.close();
    expect(Buffer.concat(run.frames).subarray(0, expected.length)).toEqual(expected);
  });

  it('a FIFO with no writer: the open is pending, not blocking, and an abort ends it at once (fd closed)', async () => {
    const fifo = join(dir, 'lonely.fifo');
    execFileSync('mkfifo', [fifo]);
    const abort = new AbortController();
    const opening = createFileSource(fifo, { frameMs: FRAME_MS, signal: abort.signal });
    const outcome = opening.then(
      () => null,
      (error: unknown) => error,
    );
    // The event loop still runs (other frames flow) while the FIFO waits for a writer.
    await framesElapse(10);
    expect(openFds(fifo)).toBe(1);
    abort.abort();
    const error = await outcome;
    expect(error).toBeInstanceOf(HydraError);
    expect((error as HydraError).code).toBe('interrupted');
    expect(openFds(fifo)).toBe(0);
  });

  it('a WAV whose header claims 4 GHz fails before any frame, even through a FIFO', async () => {
    const path = join(dir, 'giga.wav');
    const bad = wavHeader(16000, 1, 3200);
    bad.writeUInt32LE(4_000_000_000, 24);
    writeFileSync(path, Buffer.concat([bad, Buffer.alloc(3200)]));
    await expect(createFileSource(path, { frameMs: FRAME_MS })).rejects.toThrow(/sample rate of 4000000000 Hz is out of range/);
  });
});

/** How many of this process's fds point at `path`. */
function openFds(path: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count += 1;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}
