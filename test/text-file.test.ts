/**
 * Text files the user names are read under bounds (src/text-file.ts): /dev/zero is refused once it
 * passes the limit, a FIFO is read without blocking the process (its writer may come late, or never:
 * then Ctrl-C still works), and the synchronous reader never opens anything but a regular file. Then
 * the same files through the real CLI: --prompt-file, --tools and a scenario.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTextFile, readTextFileSync, TextFileError } from '../src/text-file.js';
import { cli, startCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-text-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fifos = 0;
function fifo(): string {
  const path = join(dir, `pipe-${++fifos}`);
  execFileSync('mkfifo', [path]);
  return path;
}

const why = (error: unknown): string => (error instanceof TextFileError ? error.why : `not a TextFileError: ${String(error)}`);

describe('readTextFile', () => {
  it('reads a regular file, and refuses one over the limit by its size', async () => {
    const path = join(dir, 'prompt.txt');
    writeFileSync(path, 'Be brief. ☕');
    expect(await readTextFile(path, { maxBytes: 100 })).toBe('Be brief. ☕');
    expect(why(await readTextFile(path, { maxBytes: 5 }).catch((e: unknown) => e))).toBe('13 bytes, more than the 5 bytes it may be');
  });

  it('stops reading /dev/zero at the limit', async () => {
    const before = process.memoryUsage().rss;
    expect(why(await readTextFile('/dev/zero', { maxBytes: 1024 * 1024 }).catch((e: unknown) => e))).toBe('more than 1 MiB');
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('names what is wrong: missing, a directory, a socket-like thing', async () => {
    expect(why(await readTextFile(join(dir, 'nope.txt'), { maxBytes: 10 }).catch((e: unknown) => e))).toBe('no such file');
    expect(why(await readTextFile(join(dir, 'nope', 'x.txt'), { maxBytes: 10 }).catch((e: unknown) => e))).toBe('no such file');
    expect(why(await readTextFile(dir, { maxBytes: 10 }).catch((e: unknown) => e))).toBe('is a directory');
  });

  it('reads a FIFO whose writer comes later, with the event loop free meanwhile', async () => {
    const path = fifo();
    const reading = readTextFile(path, { maxBytes: 1000 });
    // The loop still runs timers while the read waits for a writer.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const writer = spawn('sh', ['-c', `printf 'from a pipe' > ${path}`]);
    expect(await reading).toBe('from a pipe');
    await new Promise((resolve) => writer.once('exit', resolve));
  });

  it('a FIFO that never gets a writer is left when the signal aborts', async () => {
    const path = fifo();
    const stop = new AbortController();
    const reading = readTextFile(path, { maxBytes: 1000, signal: stop.signal }).catch((e: unknown) => e);
    setTimeout(() => stop.abort(), 50);
    const error = await reading;
    expect(error).toBeInstanceOf(TextFileError);
    expect((error as TextFileError).code).toBe('ABORT_ERR');
  });

  it('a FIFO that streams past the limit is cut off', async () => {
    const path = fifo();
    const reading = readTextFile(path, { maxBytes: 4096 }).catch((e: unknown) => e);
    const writer = spawn('sh', ['-c', `head -c 100000 /dev/zero > ${path}`], { stdio: 'ignore' });
    expect(why(await reading)).toBe('more than 4 KiB');
    writer.kill();
  });

  it('the synchronous reader refuses a FIFO at once instead of blocking the process', () => {
    const path = fifo();
    let error: unknown = null;
    try {
      readTextFileSync(path, 1000);
    } catch (caught) {
      error = caught;
    }
    expect(why(error)).toBe('not a regular file');
    const file = join(dir, 'sync.json');
    writeFileSync(file, '{}');
    expect(readTextFileSync(file, 10)).toBe('{}');
  });
});

describe('files the CLI reads', () => {
  const HELLO = 'test/fixtures/hello-16k.wav';
  const run = (...args: string[]) => cli(['--mock', '--input', HELLO, '--output', join(dir, `out-${++fifos}.wav`), ...args], {});

  it('--prompt-file /dev/zero and a --tools config linked to it: one line, exit 2 / 11, no crash', async () => {
    const prompt = await run('--prompt-file', '/dev/zero');
    expect(prompt.code).toBe(2);
    expect(prompt.stderr).toBe('error: cannot read --prompt-file /dev/zero: more than 4 MiB\n');
    const config = join(dir, 'zero.json');
    symlinkSync('/dev/zero', config);
    const tools = await run('--tools', config);
    expect(tools.stderr).toBe(`error: ${config}: cannot read (more than 4 MiB)\n`);
    expect(tools.code).toBe(11);
  });

  it('--prompt-file from a pipe (bash process substitution works the same way) is the instructions sent', async () => {
    const path = fifo();
    const chat = startCli(['--json', '--mock', '--input', HELLO, '--output', join(dir, 'piped.wav'), '--trailing-silence', '300', '--prompt-file', path], {});
    const fd = openSync(path, 'w'); // returns once the CLI has opened its end
    writeSync(fd, 'Answer in one word.\n');
    closeSync(fd);
    expect(await chat.exited, chat.stderr()).toBe(0);
    const configure = chat.lines.find((line) => line.dir === 'out' && line.frame?.type === 'session.configure');
    expect((configure?.frame as { session?: { instructions?: string } } | undefined)?.session?.instructions).toBe('Answer in one word.');
  });

  it('Ctrl-C while --prompt-file or a scenario waits for a FIFO writer ends the run at once (exit 130)', async () => {
    for (const [args, what] of [
      [['--json', '--mock', '--input', HELLO, '--output', join(dir, 'waiting.wav'), '--prompt-file'], '--prompt-file '],
      [['run', '--mock'], ''],
    ] as const) {
      const path = fifo();
      const chat = startCli([...args, path], {});
      // A writer that opens the FIFO (which returns once the CLI has its end open) and then says nothing.
      const writer = spawn('sh', ['-c', `exec 3>${path}; echo opened; sleep 30`], { stdio: ['ignore', 'pipe', 'ignore'] });
      await new Promise((resolve) => writer.stdout.once('data', resolve));
      chat.child.kill('SIGINT');
      expect(await chat.exited).toBe(130);
      expect(chat.stderr()).toBe(`error: stopped while waiting for ${what}${path}\n`);
      writer.kill('SIGKILL');
    }
  });
});
