/**
 * Reading WAVs: every PCM / float / A-law / µ-law layout that `wavefile` reads decodes to the same
 * PCM16 (fixtures made with sox at test time), and a header out of range fails at once (exit 14).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HydraError } from '../src/errors.js';
import { readWav, readWavMono16k, wavHeader } from '../src/audio/wav.js';
import { openWavStream } from '../src/audio/wav-stream.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-files-wav-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A 0.3 s two-tone test signal at `rate` with `channels`, written by sox with these encoding flags. */
function soxFixture(name: string, flags: string[], rate = 44100, channels = 2): string {
  const path = join(dir, name);
  const tones = Array.from({ length: channels }, (_, i) => ['sine', String(300 + 200 * i)]).flat();
  execFileSync('sox', ['-n', '-r', String(rate), '-c', String(channels), ...flags, path, 'synth', '0.3', ...tones, 'vol', '0.8']);
  return path;
}

/** What wavefile makes of the file, as interleaved PCM16. */
function wavefileSamples(path: string): { rate: number; channels: number; samples: Int16Array } {
  const wav = new wavefile.WaveFile(readFileSync(path));
  const fmt = { ...(wav.fmt as { numChannels: number; sampleRate: number; audioFormat: number }) }; // conversions reset wav.fmt
  const tag = fmt.audioFormat === 0xfffe ? (wav.fmt as { subformat: number[] }).subformat[0] : fmt.audioFormat;
  if (tag === 6) wav.fromALaw('16');
  else if (tag === 7) wav.fromMuLaw('16');
  else if (wav.bitDepth !== '16') wav.toBitDepth('16');
  return { rate: fmt.sampleRate, channels: fmt.numChannels, samples: wav.getSamples(true, Int16Array) as unknown as Int16Array };
}

const FORMATS: [string, string[], number?][] = [
  ['u8', ['-e', 'unsigned-integer', '-b', '8']],
  ['s16', ['-e', 'signed-integer', '-b', '16']],
  ['s24 (extensible)', ['-e', 'signed-integer', '-b', '24']],
  ['s32 (extensible)', ['-e', 'signed-integer', '-b', '32']],
  ['float32', ['-e', 'floating-point', '-b', '32']],
  ['float64', ['-e', 'floating-point', '-b', '64']],
  ['a-law', ['-e', 'a-law']],
  ['µ-law', ['-e', 'u-law']],
  ['s16, 3 channels (extensible)', ['-e', 'signed-integer', '-b', '16'], 3],
  ['s16 big-endian (RIFX)', ['-B', '-e', 'signed-integer', '-b', '16']],
  ['s24 big-endian (RIFX, extensible)', ['-B', '-e', 'signed-integer', '-b', '24']],
  ['float32 big-endian (RIFX)', ['-B', '-e', 'floating-point', '-b', '32']],
];

describe('WAV formats', () => {
  it.each(FORMATS)('%s decodes to the same PCM16 as wavefile', async (name, flags, channels = 2) => {
    const path = soxFixture(`${name.replace(/\W+/g, '-')}.wav`, flags, 44100, channels);
    const expected = wavefileSamples(path);
    const ours = await readWav(path);
    expect(ours.sampleRate).toBe(expected.rate);
    expect(ours.channels).toBe(expected.channels);
    const samples = new Int16Array(ours.pcm.buffer, ours.pcm.byteOffset, ours.pcm.length / 2);
    expect(samples.length).toBe(expected.samples.length);
    let worst = 0;
    for (let i = 0; i < samples.length; i += 1) worst = Math.max(worst, Math.abs(samples[i]! - expected.samples[i]!));
    // Rounding of the conversion may differ by one step of the source format; the signal is ±26 000.
    expect(worst).toBeLessThanOrEqual(name === 'u8' ? 256 : 2);
    expect(Math.max(...samples.subarray(0, 4000))).toBeGreaterThan(20_000);
  });

  it.each(FORMATS)('%s streams to 16 kHz mono of the right length', async (name, flags, channels = 2) => {
    const path = soxFixture(`stream-${name.replace(/\W+/g, '-')}.wav`, flags, 44100, channels);
    const stream = await openWavStream(path);
    expect(stream.durationMs).toBeCloseTo(300, 0);
    stream.close();
    const pcm = await readWavMono16k(path);
    expect(pcm.length).toBe(0.3 * 16000 * 2);
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    expect(Math.max(...samples)).toBeGreaterThan(10_000);
  });

  it('a data size of 0 or 0xFFFFFFFF (a streamed header) reads to the end of the file', async () => {
    const pcm = Buffer.alloc(16000 * 2 * 0.5, 0x11);
    for (const size of [0, 0xffffffff]) {
      const header = wavHeader(16000, 1, 0);
      header.writeUInt32LE(size, 40);
      const path = join(dir, `streamed-${size}.wav`);
      writeFileSync(path, Buffer.concat([header, pcm]));
      expect(await readWavMono16k(path)).toEqual(pcm);
    }
  });

  it('chunks before and after the audio are skipped, not played', async () => {
    const pcm = Buffer.alloc(3200, 0x22);
    const header = wavHeader(16000, 1, pcm.length);
    const junk = Buffer.concat([Buffer.from('JUNK'), Buffer.from([5, 0, 0, 0]), Buffer.alloc(6)]); // odd size: padded
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([4, 0, 0, 0]), Buffer.from('INFO')]);
    const path = join(dir, 'chunks.wav');
    writeFileSync(path, Buffer.concat([header.subarray(0, 12), junk, header.subarray(12), pcm, list]));
    expect(await readWavMono16k(path)).toEqual(pcm);
  });
});

/** A PCM16 header with fields overridden at their byte offsets. */
function header(fields: { rate?: number; channels?: number; blockAlign?: number; bits?: number; tag?: number }): Buffer {
  const h = wavHeader(16000, 1, 32000);
  if (fields.tag !== undefined) h.writeUInt16LE(fields.tag, 20);
  if (fields.channels !== undefined) h.writeUInt16LE(fields.channels, 22);
  if (fields.rate !== undefined) h.writeUInt32LE(fields.rate, 24);
  if (fields.blockAlign !== undefined) h.writeUInt16LE(fields.blockAlign, 32);
  if (fields.bits !== undefined) h.writeUInt16LE(fields.bits, 34);
  return Buffer.concat([h, Buffer.alloc(32000)]);
}

describe('WAV header range checks', () => {
  const cases: [string, Parameters<typeof header>[0], RegExp][] = [
    ['4 GHz', { rate: 4_000_000_000 }, /sample rate of 4000000000 Hz is out of range \(1 kHz to 384 kHz\)/],
    ['400 MHz', { rate: 400_000_000 }, /sample rate of 400000000 Hz is out of range/],
    ['500 Hz', { rate: 500 }, /sample rate of 500 Hz/],
    ['0 channels', { channels: 0 }, /0 channels is out of range/],
    ['33 channels', { channels: 33, blockAlign: 66 }, /33 channels is out of range \(1 to 32\)/],
    ['block align 0', { blockAlign: 0 }, /block align 0 does not fit/],
    ['12-bit float', { tag: 3, bits: 12 }, /12-bit float is not supported/],
    ['IMA ADPCM', { tag: 0x11 }, /format tag 0x0011 is not PCM/],
  ];
  it.each(cases)('%s is refused at once with one clear line (exit 14)', async (_name, fields, message) => {
    const path = join(dir, `bad-${_name.replace(/\W+/g, '-')}.wav`);
    writeFileSync(path, header(fields));
    for (const read of [() => readWav(path), () => readWavMono16k(path)]) {
      const error = await read().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(HydraError);
      expect((error as HydraError).exitCode).toBe(14);
      expect((error as HydraError).message).toMatch(message);
      expect((error as HydraError).message).not.toContain('\n');
    }
  });

  it('/dev/zero and text are not WAVs: refused at once, nothing read beyond the first bytes', async () => {
    const text = join(dir, 'notes.wav');
    writeFileSync(text, 'hello, this is not audio');
    for (const path of ['/dev/zero', text]) {
      await expect(readWavMono16k(path)).rejects.toThrow(/not a usable WAV file: no RIFF\/WAVE header/);
    }
  });

  it('a missing file and a directory say so (exit 14)', async () => {
    await expect(readWavMono16k(join(dir, 'nope.wav'))).rejects.toThrow(/cannot read .*nope\.wav: no such file/);
    await expect(readWavMono16k(dir)).rejects.toThrow(/is a directory/);
  });
});
