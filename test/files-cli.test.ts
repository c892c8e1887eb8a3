/**
 * --input, --output and --record at the edges, through the built CLI with --mock: FIFOs and signals,
 * hostile headers, every sample format, full disks, overwrites and two runs on one file.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWav, wavHeader } from '../src/audio/wav.js';
import { wavSizes } from './fixtures/faults/harness.js';
import { cli, startCli, type CliProcess } from './support/cli-process.js';

const HELLO = 'test/fixtures/hello-16k.wav';
const dir = mkdtempSync(join(tmpdir(), 'hydra-files-cli-'));
/** A 64 KiB tmpfs, when this machine lets us mount one (root); otherwise the real-disk tests are skipped. */
const tiny = ((): string | null => {
  const mountPoint = join(dir, 'tiny');
  mkdirSync(mountPoint);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], { stdio: 'ignore' });
  return mounted.status === 0 ? mountPoint : null;
})();

afterAll(async () => {
  if (tiny) spawnSync('umount', [tiny], { stdio: 'ignore' });
  if (tiny && existsSync(tiny)) rmdirSync(tiny);
  await rm(dir, { recursive: true, force: true });
});

/** Resolves once the process holds an fd on `path` (polling /proc: an observable state, not a guess). */
async function holdsFd(run: CliProcess, path: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const fds = (() => {
      try {
        return readdirSync(`/proc/${run.child.pid}/fd`);
      } catch {
        return [];
      }
    })();
    if (fds.some((fd) => safeReadlink(`/proc/${run.child.pid}/fd/${fd}`) === path)) return;
    if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`the CLI never opened ${path}; stderr:\n${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function safeReadlink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

describe('--input from a FIFO', () => {
  it.each([
    ['SIGINT', 0],
    ['SIGTERM', 143],
  ] as const)('with no writer, %s ends the run at once (exit %i)', async (signal, code) => {
    const fifo = join(dir, `no-writer-${signal}.fifo`);
    execFileSync('mkfifo', [fifo]);
    const run = startCli(['--mock', '--json', '--input', fifo], {});
    await holdsFd(run, fifo);
    const sent = Date.now();
    run.child.kill(signal);
    expect(await run.exited).toBe(code);
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(run.stderr()).not.toMatch(/\n\s+at /);
  });
});

describe('--input headers and formats', () => {
  it.each([
    ['4 GHz', 4_000_000_000],
    ['400 MHz', 400_000_000],
  ])('a header claiming %s exits 14 at once with one line, and nothing else', async (_name, rate) => {
    const path = join(dir, `rate-${rate}.wav`);
    const header = wavHeader(16000, 1, 64000);
    header.writeUInt32LE(rate, 24);
    writeFileSync(path, Buffer.concat([header, Buffer.alloc(64000)]));
    const started = Date.now();
    const run = await cli(['--mock', '--input', path], {}, 10_000);
    expect(run.code).toBe(14);
    expect(Date.now() - started).toBeLessThan(5000);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`error: .*rate-${rate}\\.wav is not a usable WAV file: its sample rate of ${rate} Hz is out of range`));
    expect(lines.length).toBeLessThanOrEqual(2); // the message and a hint
    expect(run.stdout).toBe(''); // refused before the simulator started or a header was printed
  });

  it('a 32-bit float stereo 44.1 kHz WAV is spoken and answered (exit 0)', async () => {
    const path = join(dir, 'hello-float.wav');
    execFileSync('sox', [HELLO, '-r', '44100', '-c', '2', '-e', 'floating-point', '-b', '32', path]);
    const run = await cli(['--mock', '--input', path, '--output', join(dir, 'float-reply.wav')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/V2V \d+ ms/);
  });
});

describe('--output and --record on a full disk', () => {
  it.each(['--output', '--record'])('%s /dev/full exits 15 with one line, before connecting', async (flag) => {
    // A refused port: reaching the connection would be exit 9, not 15.
    const run = await cli(['--url', 'ws://127.0.0.1:9/', '--input', HELLO, flag, '/dev/full'], { SMALLEST_API_KEY: 'test-key' });
    expect(run.code).toBe(15);
    expect(run.stderr.trim()).toBe('error: cannot write /dev/full: the disk is full (ENOSPC)');
  });

  it('standard output on a full disk (> /dev/full) exits 15 with one line on stderr, not an internal error', async () => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, ['bin/hydra-chat.js', '--mock', '--input', HELLO, '--output', join(dir, 'stdout-full.wav')], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', full, 'pipe'],
    });
    closeSync(full);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(15);
    expect(stderr.trim()).toBe('error: cannot write standard output: the disk is full (ENOSPC)');
  });

  // Needs a 64 KiB tmpfs (root); without one, the /dev/full cases above still run.
  it.skipIf(tiny === null)('--record on a disk that fills up: exit 15, one line, the header matches what was written', async () => {
    if (!tiny) return;
    const record = join(tiny, 'full.wav');
    const run = await cli(['--mock', '--input', HELLO, '--record', record, '--output', join(dir, 'fill-out.wav')]);
    expect(run.code).toBe(15);
    expect(run.stderr).toMatch(new RegExp(`^error: cannot write ${record}: the disk is full \\(ENOSPC\\)\\n`));
    const wav = wavSizes(record);
    expect(wav.dataBytes).toBeGreaterThan(0);
    expect(wav.fileBytes).toBe(44 + wav.dataBytes);
    expect(wav.riffBytes).toBe(36 + wav.dataBytes);
    expect(wav.dataBytes % 4).toBe(0);
    expect((await readWav(record)).channels).toBe(2);
    execFileSync('rm', ['-f', record]);
  });

  it.skipIf(tiny === null)('--output on a disk that fills up mid-reply: exit 15, the header matches', async () => {
    if (!tiny) return;
    const output = join(tiny, 'reply.wav');
    const run = await cli(['--mock', '--input', HELLO, '--output', output]);
    expect(run.code).toBe(15);
    expect(run.stderr).toMatch(/cannot write .*reply\.wav: the disk is full \(ENOSPC\)/);
    const wav = wavSizes(output);
    expect(wav.dataBytes).toBeGreaterThan(0);
    expect(wav.fileBytes).toBe(44 + wav.dataBytes);
    expect(wav.riffBytes).toBe(36 + wav.dataBytes);
    execFileSync('rm', ['-f', output]);
  });
});

describe('overwrites and shared files', () => {
  it('an existing --output or --record file is not overwritten without --force (exit 15, file untouched, nothing else said)', async () => {
    for (const flag of ['--output', '--record']) {
      const path = join(dir, `existing${flag}.wav`);
      writeFileSync(path, 'precious');
      // With --mock too: the refusal comes before a simulator is started or a header printed.
      for (const server of [['--url', 'ws://127.0.0.1:9/'], ['--mock']]) {
        const run = await cli([...server, '--input', HELLO, flag, path], { SMALLEST_API_KEY: 'test-key' });
        expect(run.code).toBe(15);
        expect(run.stdout).toBe('');
        expect(run.stderr).toBe(`error: ${path} already exists; not overwriting it\npass --force to replace it, or choose another ${flag} file\n`);
        expect(readFileSync(path, 'utf8')).toBe('precious');
      }
    }
  });

  it('--output and --record on the same file (even spelled differently) is a usage error (exit 2)', async () => {
    const path = join(dir, 'same.wav');
    const run = await cli(['--mock', '--input', HELLO, '--output', path, '--record', join(dir, '.', 'same.wav')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--output and --record name the same file/);
    expect(existsSync(path)).toBe(false);
  });

  it('an unwritable --output fails before connecting (exit 15, not 9)', async () => {
    for (const path of [join(dir, 'no-such-folder', 'out.wav'), dir]) {
      const run = await cli(['--mock', '--input', HELLO, '--output', path], {});
      expect(run.code).toBe(15);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^error: cannot write .*: (no such folder|is a directory)\n$/);
    }
  });

  it('a second run on the same --output is refused while the first keeps writing; after SIGKILL the header is true', async () => {
    const output = join(dir, 'shared.wav');
    const first = startCli(['--mock', '--json', '--input', HELLO, '--output', output, '--trailing-silence', '600000'], {});
    await first.waitFor((line) => line.event === 'turn'); // the reply is streaming into the file
    const second = await cli(['--mock', '--input', HELLO, '--output', output]);
    expect(second.code).toBe(15);
    expect(second.stderr).toContain('already exists');
    first.child.kill('SIGKILL');
    await first.exited;
    const wav = wavSizes(output);
    expect(wav.sampleRate).toBe(24000); // hydra-v1.1, the model when no voice is given
    expect(wav.dataBytes).toBeGreaterThan(0);
    expect(wav.fileBytes).toBe(44 + wav.dataBytes);
    expect(wav.riffBytes).toBe(36 + wav.dataBytes);
  });

  it('--force replaces an existing file; a run that ends before any reply leaves no empty --output behind', async () => {
    const output = join(dir, 'forced.wav');
    writeFileSync(output, 'old');
    const run = await cli(['--mock', '--input', HELLO, '--output', output, '--force']);
    expect(run.code).toBe(0);
    expect((await readWav(output)).pcm.length).toBeGreaterThan(48000);
    const never = join(dir, 'never.wav');
    const refused = await cli(['--url', 'ws://127.0.0.1:9/', '--input', HELLO, '--output', never], { SMALLEST_API_KEY: 'test-key' });
    expect(refused.code).toBe(9);
    expect(existsSync(never)).toBe(false);
    expect(statSync(output).size).toBeGreaterThan(44);
  });
});
