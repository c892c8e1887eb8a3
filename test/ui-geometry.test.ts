/**
 * The real CLI (the build) on a real pseudo-terminal of odd sizes, against the simulator: a bare pty
 * reports 0×0, a split pane can be a few columns wide or one row high, and a window can be resized to
 * any of these mid-session. The live screen (ora) must only be drawn where it fits: everywhere else the
 * output is plain lines, bounded, with the summary and the exit code intact.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavMono16k, wavHeader } from '../src/audio/wav.js';
import { closedPort } from './support/ports.js';
import { haveScript, runInPty, type PtyRun } from './support/pty.js';

const cwd = process.cwd();
const SGR = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** ora's redraw: a cursor up (clearing the live lines) before each frame. */
const CURSOR_UP = '\x1b[1A';
const SHOW_CURSOR = '\x1b[?25h';
/** A short session writes a few KB of plain lines, some tens of KB with the live screen. */
const BOUND = 200_000;
const SUMMARY = /summary · \d+\.\d s · 1 turn · V2V median \d+ ms/;

let dir: string;
let speech: string;
const runs: PtyRun[] = [];
const available = await haveScript();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-geometry-'));
  // Two seconds of silence first: time to resize the window while the live screen is up.
  const hello = await readWavMono16k('test/fixtures/hello-16k.wav');
  speech = join(dir, 'speech.wav');
  const pcm = Buffer.concat([Buffer.alloc(16000 * 2 * 2), hello]);
  await writeFile(speech, Buffer.concat([wavHeader(16000, 1, pcm.length), pcm]));
});

afterAll(async () => {
  for (const run of runs) run.kill();
  await rm(dir, { recursive: true, force: true });
});

/** A chat with the simulator (or `connect`'s flags) on a pty of `columns` × `rows`; the reply recorded to `<name>.wav`. */
function chat(
  columns: number,
  rows: number,
  name: string,
  extra: { env?: Record<string, string>; stderrFile?: string; connect?: string[] } = {},
): { run: PtyRun; reply: string } {
  const reply = join(dir, `${name}.wav`);
  const argv = [process.execPath, 'bin/hydra-chat.js', ...(extra.connect ?? ['--mock']), '--input', speech, '--output', reply];
  const run = runInPty(argv, { cwd, columns, rows, env: extra.env, stderrFile: extra.stderrFile });
  runs.push(run);
  return { run, reply };
}

const plain = (bytes: Buffer): string => bytes.toString('utf8').replace(SGR, '');

describe.skipIf(!available)('hydra-chat on a terminal of any size (a real pty)', () => {
  it.concurrent.each([
    [0, 0],
    [1, 24],
    [2, 24],
    [5, 24],
    [10, 24],
    [80, 1],
  ])('%i columns × %i rows: plain lines, no redraw, bounded, the summary and exit 0', async (columns, rows) => {
    const { run, reply } = chat(columns, rows, `size-${columns}x${rows}`);
    const exit = await run.exited;
    const output = run.output();
    expect(exit).toEqual({ code: 0, overflow: false });
    expect(output.length).toBeLessThan(BOUND);
    // Too small for the live lines: nothing is redrawn in place, every line is written once.
    expect(output.toString('utf8')).not.toContain(CURSOR_UP);
    const text = plain(output);
    expect(text).toMatch(/hydra {2}▸ replying · V2V \d+ ms/);
    expect(text).toMatch(SUMMARY);
    expect((await readFile(reply)).length).toBeGreaterThan(44);
  });

  it('TERM=dumb: plain lines without a single escape code (a dumb terminal prints them as text)', async () => {
    const { run } = chat(100, 30, 'dumb', { env: { TERM: 'dumb' } });
    const exit = await run.exited;
    const text = run.output().toString('utf8');
    expect(exit).toEqual({ code: 0, overflow: false });
    expect(text).not.toContain('\x1b');
    expect(text).toMatch(SUMMARY);
  });

  it('CI set on a pseudo-terminal (a CI job under script): plain lines, no spinner', async () => {
    const { run } = chat(100, 30, 'ci', { env: { CI: 'true' } });
    const exit = await run.exited;
    const text = run.output().toString('utf8');
    expect(exit).toEqual({ code: 0, overflow: false });
    expect(text).not.toContain(CURSOR_UP);
    expect(text).not.toContain('space interrupt');
    expect(plain(run.output())).toMatch(SUMMARY);
  });

  it('stderr to a file, stdout the terminal: the error lands in the file without escape codes, exit 9, the cursor back', async () => {
    const errors = join(dir, 'errors.txt');
    const url = `ws://127.0.0.1:${await closedPort()}/waves/v1/s2s`;
    const { run } = chat(100, 30, 'refused', { connect: ['--url', url, '--api-key', 'sk_test_geometry'], stderrFile: errors });
    const exit = await run.exited;
    expect(exit).toEqual({ code: 9, overflow: false });
    // The terminal had the live screen, and got its cursor back.
    const screen = run.output().toString('utf8');
    expect(screen).toContain('space interrupt');
    expect(screen.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(screen.lastIndexOf('\x1b[?25l'));
    const file = await readFile(errors, 'utf8');
    expect(file).toMatch(/^error: connection refused by ws:\/\/127\.0\.0\.1:\d+\/waves\/v1\/s2s\n/);
    expect(file).not.toContain('\x1b');
  });

  it('resized to 0×0 mid-session (SIGWINCH): the live screen goes away, no runaway redraw, the summary and exit 0', async () => {
    const { run } = chat(100, 30, 'resize-zero');
    await run.waitFor(/space interrupt/);
    await run.resize(0, 0);
    const exit = await run.exited;
    expect(exit).toEqual({ code: 0, overflow: false });
    expect(run.output().length).toBeLessThan(BOUND);
    expect(plain(run.output())).toMatch(SUMMARY);
  });

  it('shrunk to 5×1 mid-session and grown back: plain lines while small, the live screen again once it fits', async () => {
    const { run } = chat(100, 30, 'resize-back');
    await run.waitFor(/space interrupt/);
    const before = run.output().length;
    await run.resize(5, 1);
    // The live lines are cleared and the cursor shown again (what stopping the live screen writes).
    await run.waitFor(/\x1b\[\?25h/, before);
    const shrunk = run.output().length;
    await run.resize(100, 30);
    await run.waitFor(/space interrupt/, shrunk);
    const exit = await run.exited;
    const output = run.output();
    expect(exit).toEqual({ code: 0, overflow: false });
    // Between the shrink and the growth nothing was redrawn in place.
    const small = output.subarray(output.indexOf(SHOW_CURSOR, before), shrunk).toString('utf8');
    expect(small).not.toContain(CURSOR_UP);
    expect(output.length).toBeLessThan(BOUND);
    expect(plain(output)).toMatch(SUMMARY);
  });
});
