/**
 * Audio read whole (a scenario's `wav:` turns) is bounded: a file whose length is known to be too
 * long is refused before it is read, a FIFO that never ends is stopped at the limit, and `hydra-chat
 * run` says which file, with exit 14, instead of reading gigabytes into memory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWavMono16k, wavHeader } from '../src/audio/wav.js';
import { cli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-files-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sparse 16 kHz mono WAV of `minutes` whose data chunk size says "streamed" (0). */
function sparseWav(name: string, minutes: number): string {
  const path = join(dir, name);
  writeFileSync(path, wavHeader(16000, 1, 0));
  truncateSync(path, 44 + minutes * 60 * 32000);
  return path;
}

describe('audio read whole', () => {
  it('a file longer than the limit is refused at once, naming it; one within it is read', async () => {
    const long = sparseWav('long.wav', 11);
    await expect(readWavMono16k(long)).rejects.toMatchObject({ code: 'input-file', message: `${long} is longer than 10 min, the most one turn's audio may be (it is held in memory)` });
    expect((await readWavMono16k(sparseWav('short.wav', 0.01))).length).toBe(0.01 * 60 * 32000);
  });

  it('a FIFO that never ends is stopped once the limit is passed', async () => {
    const fifo = join(dir, 'endless.wav');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // The writer: a header, then zeros until the reader hangs up.
    const writer = spawn('sh', ['-c', `{ printf 'RIFF\\377\\377\\377\\377WAVEfmt \\020\\0\\0\\0\\001\\0\\001\\0\\200\\076\\0\\0\\0\\175\\0\\0\\002\\0\\020\\0data\\0\\0\\0\\0'; cat /dev/zero; } > ${fifo}`], { stdio: 'ignore' });
    try {
      await expect(readWavMono16k(fifo, { maxMs: 2000 })).rejects.toMatchObject({ code: 'input-file', message: expect.stringContaining('is longer than 2 s') });
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('hydra-chat run: a wav: turn of 11 minutes exits 14 with one line, before connecting', async () => {
    const huge = sparseWav('huge.wav', 11);
    const scenario = join(dir, 'huge.yaml');
    writeFileSync(scenario, 'name: huge\nturns:\n  - wav: huge.wav\n');
    const run = await cli(['run', scenario, '--mock'], { SMALLEST_API_KEY: '' });
    expect(run.code, run.stderr).toBe(14);
    expect(run.stderr).toContain(`error: ${huge} is longer than 10 min`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
