/**
 * What a new user meets in the first minutes (issue 16 items 1, 6, 8, 9; issue 12 item 5): the voice picks
 * the model, warnings reach stderr under --json/--quiet, --json events are complete and rounded, a local
 * endpoint needs no key, a failed connect prints no summary. The real built CLI against the real simulator.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wavHeader } from '../src/audio/wav.js';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import { cli, startCli } from './support/cli-process.js';
import { haveTmux, TmuxSession } from './support/tmux.js';
import { closedPort } from './support/ports.js';

const HELLO = 'test/fixtures/hello-16k.wav';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-first-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Line = Record<string, unknown> & { dir?: string; frame?: Record<string, unknown> & { type: string } };
const parse = (stdout: string): Line[] => stdout.trim().split('\n').map((line) => JSON.parse(line) as Line);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const frame = (lines: Line[], dir: string, type: string): any => lines.find((line) => line.dir === dir && line.frame?.type === type)?.frame;

/** A --json run with the in-process simulator; returns the parsed lines. */
async function jsonRun(...args: string[]): Promise<{ lines: Line[]; stderr: string; code: number | null }> {
  const run = await cli(['--mock', '--json', '--input', HELLO, '--output', join(dir, `${args.join('-') || 'default'}.wav`), ...args]);
  return { lines: parse(run.stdout), stderr: run.stderr, code: run.code };
}

describe('the voice picks the model (issue 16 item 1)', () => {
  it('no --voice: hydra-v1.1, no voice sent, no deprecation warning', async () => {
    const { lines, stderr, code } = await jsonRun();
    expect(code).toBe(0);
    const configure = frame(lines, 'out', 'session.configure') as { session: Record<string, unknown> };
    expect(configure.session).not.toHaveProperty('voice');
    expect(lines.find((l) => l.event === 'note' && l.kind === 'configured')).toMatchObject({ outputSampleRate: 24000 });
    expect(frame(lines, 'in', 'warning')).toBeUndefined();
    expect(stderr).toBe('');
  });

  it('--voice reed: the hydra roster (48 kHz, deprecated); --voice aria: hydra-v1.1 (24 kHz, no warning)', async () => {
    const reed = await jsonRun('--voice', 'reed');
    expect(reed.code).toBe(0);
    expect(frame(reed.lines, 'in', 'warning')).toMatchObject({ warning: { code: 'model_deprecated' } });
    expect(reed.lines.find((l) => l.event === 'note' && l.kind === 'configured')).toMatchObject({ voice: 'reed', outputSampleRate: 48000 });
    const aria = await jsonRun('--voice', 'aria');
    expect(aria.code).toBe(0);
    expect(frame(aria.lines, 'in', 'warning')).toBeUndefined();
    expect(aria.lines.find((l) => l.event === 'note' && l.kind === 'configured')).toMatchObject({ voice: 'aria', outputSampleRate: 24000 });
  });

  it('an explicit --model wins over the voice, and the roster warning reaches stderr under --json', async () => {
    const { lines, stderr } = await jsonRun('--voice', 'reed', '--model', 'hydra-v1.0');
    expect((frame(lines, 'out', 'session.configure') as { session: { voice: string } }).session.voice).toBe('reed');
    expect(stderr).toContain('"reed" is not a hydra-v1.0 voice');
    expect(stderr).toContain('(sent anyway)');
  });
});

describe('warnings under --json / --quiet go to stderr (issue 12 item 5)', () => {
  it('unknown model under --quiet: one warning on stderr, nothing on stdout', async () => {
    const run = await cli(['--mock', '--quiet', '--model', 'hydra-v9', '--input', HELLO, '--output', join(dir, 'q.wav')], {}, 30_000, /unknown model/);
    expect(run.stderr).toMatch(/warning: unknown model "hydra-v9"; known: hydra, hydra-v1\.0, hydra-v1\.1 \(sent anyway\)/);
    expect(run.stdout).toBe('');
  });

  it('a voice outside the roster under --quiet is on stderr', async () => {
    const run = await cli(['--mock', '--quiet', '--model', 'hydra', '--voice', 'nobody', '--input', HELLO, '--output', join(dir, 'q2.wav')]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('"nobody" is not a hydra voice');
    expect(run.stdout).toBe('');
  });
});

describe("the server's warnings under --json / --quiet reach stderr (issue 12 item 5, siblings)", () => {
  for (const mode of ['--quiet', '--json']) {
    it(`model_deprecated with its migration hint under ${mode}`, async () => {
      const run = await cli(['--mock', mode, '--voice', 'reed', '--input', HELLO, '--output', join(dir, `dep${mode}.wav`)]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/^warning: model 'hydra' is deprecated; use hydra-v1\.0 — migrate with --model hydra-v1\.0/m);
      if (mode === '--quiet') expect(run.stdout).toBe('');
      else for (const line of run.stdout.trim().split('\n')) JSON.parse(line);
    });
  }
});

describe('--json events (issue 16 item 6)', () => {
  it('every line has t, audio sizes are decoded sizes, milliseconds have at most one decimal', async () => {
    const { lines, code } = await jsonRun('--greet');
    expect(code).toBe(0);
    for (const line of lines) expect(typeof line.t).toBe('number');
    expect(lines.at(-1)).toMatchObject({ event: 'end' });
    const appends = lines.filter((l) => l.dir === 'out' && l.frame?.type === 'input_audio_buffer.append');
    expect(appends.length).toBeGreaterThan(10);
    for (const append of appends) expect(append.frame!.audio).toBe('<640 bytes>');
    const decimals = (value: unknown): boolean => typeof value !== 'number' || Number.isInteger(Math.round(value * 10) / 10 * 10) && Math.abs(value * 10 - Math.round(value * 10)) < 1e-6;
    const turn = lines.find((l) => l.event === 'turn');
    expect(turn).toBeDefined();
    for (const line of lines) {
      expect(decimals(line.t)).toBe(true);
      for (const [key, value] of Object.entries(line)) if (/Ms$|_ms$/.test(key)) expect(decimals(value), `${key}=${String(value)}`).toBe(true);
    }
  });
});

describe('--json: mute and the restart note are events (issue 16 item 6)', () => {
  it('editing the instructions of the tools file gives a restart-needed event', async () => {
    const silence = join(dir, 'long-silence.wav');
    await writeFile(silence, Buffer.concat([wavHeader(16000, 1, 16000 * 2 * 20), Buffer.alloc(16000 * 2 * 20)]));
    const tools = join(dir, 'hydra.tools.json');
    await writeFile(tools, JSON.stringify({ instructions: 'Be brief.', tools: [{ name: 'ping', result: { ok: true } }] }));
    const run = startCli(['--mock', '--json', '--tools', tools, '--input', silence, '--output', join(dir, 'restart.wav')], {});
    try {
      await run.waitFor((line) => line.event === 'note' && line.kind === 'configured');
      await writeFile(tools, JSON.stringify({ instructions: 'Be very brief.', tools: [{ name: 'ping', result: { ok: true } }] }));
      const note = await run.waitFor((line) => line.event === 'note' && line.kind === 'restart-needed');
      expect(note).toMatchObject({ changed: ['instructions'], file: tools });
      expect(typeof note.t).toBe('number');
      expect(typeof (await run.waitFor((line) => line.event === 'tools-reload')).t).toBe('number');
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    // stderr is its own pipe: read it once the process has ended.
    expect(run.stderr()).toContain('restart hydra-chat to use them');
  });
});

describe('a local endpoint needs no key (issue 16 item 8)', () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await createSimulator({ port: 0, profile: 'aug-2026' });
  });
  afterAll(async () => simulator.close());

  it('--url ws://127.0.0.1:<port>/... without a key sends a placeholder with a one-line note and runs', async () => {
    const run = await cli(['--url', simulator.url, '--input', HELLO, '--output', join(dir, 'local.wav')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^no API key: sending a placeholder to the local endpoint 127\.0\.0\.1:\d+$/m);
    expect(run.stdout).toMatch(/V2V \d+ ms/);
  });

  it('a remote URL without a key still exits 3', async () => {
    const run = await cli(['--url', 'wss://hydra.example.invalid/waves/v1/s2s', '--input', HELLO, '--output', join(dir, 'r.wav')]);
    expect(run.code).toBe(3);
  });
});

describe('small edges (issue 16 item 9)', () => {
  it('a failed connect prints the error and no summary', async () => {
    const port = await closedPort();
    const run = await cli(['--url', `ws://127.0.0.1:${port}/waves/v1/s2s`, '--max-retries', '0', '--input', HELLO, '--output', join(dir, 'c.wav')]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('connection refused');
    expect(run.stdout + run.stderr).not.toContain('summary');
  });

  it('subcommands take the output flags: devices --verbose, voices --json, config --quiet', async () => {
    const devices = await cli(['devices', '--verbose', '--no-color'], { HYDRA_CHAT_NAUDIODON: '/nonexistent/naudiodon.node' });
    expect(devices.stderr).not.toContain('unknown option');
    expect(devices.code).toBe(13); // no addon here: the documented code, not a usage error
    const listed = await cli(['devices', '--verbose']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^listed by the audio host \(PortAudio\) in \d+ ms$/m);
    const voices = await cli(['voices', '--json']);
    expect(voices.code).toBe(0);
    const models = voices.stdout.trim().split('\n').map((line) => JSON.parse(line) as { model: string; voices: string[] });
    expect(models.map((m) => m.model)).toEqual(['hydra', 'hydra-v1.0', 'hydra-v1.1']);
    expect((await cli(['config', '--quiet'])).stdout).toBe('');
  });

  it('the final server_full error does not promise a retry it will not make', async () => {
    const simulator = await createSimulator({ port: 0, profile: 'aug-2026', capacity: 0 });
    try {
      const run = await cli(['--url', simulator.url, '--max-retries', '0', '--input', HELLO, '--output', join(dir, 'f.wav')]);
      expect(run.stderr).toContain('server_full');
      expect(run.stderr).not.toContain('retries with backoff');
      expect(run.stderr).toContain('--max-retries');
    } finally {
      await simulator.close();
    }
  });
});

describe.skipIf(!(await haveTmux()))('on a terminal', () => {
  it('--json: m mutes and unmutes, each an event with t (issue 16 item 6)', async () => {
    const silence = join(dir, 'mute-silence.wav');
    await writeFile(silence, Buffer.concat([wavHeader(16000, 1, 16000 * 2 * 20), Buffer.alloc(16000 * 2 * 20)]));
    const term = await TmuxSession.start([process.execPath, 'bin/hydra-chat.js', '--mock', '--json', '--input', silence, '--output', join(dir, 'mute.wav')], {
      cwd: process.cwd(),
      width: 400,
    });
    try {
      await term.waitFor('"kind":"configured"');
      await term.sendKeys('m');
      await term.waitFor(/^\{"t":[\d.]+,"event":"mute"\}$/m);
      await term.sendKeys('m');
      await term.waitFor(/^\{"t":[\d.]+,"event":"unmute"\}$/m);
      await term.sendKeys('q');
      expect((await term.waitForExit()).code).toBe(0);
    } finally {
      await term.kill();
    }
  });


  for (const width of [160, 80]) {
    it(`the deprecation warning is one line, wrapped at word boundaries at ${width} columns (issue 16 item 1)`, async () => {
      const silence = join(dir, `silence-${width}.wav`);
      await writeFile(silence, Buffer.concat([wavHeader(16000, 1, 16000 * 2), Buffer.alloc(16000 * 2)]));
      const term = await TmuxSession.start([process.execPath, 'bin/hydra-chat.js', '--mock', '--voice', 'reed', '--input', silence, '--output', join(dir, `w${width}.wav`)], {
        cwd: process.cwd(),
        width,
      });
      try {
        const screen = (await term.waitForExit()).screen;
        const rows = screen.split('\n');
        const start = rows.findIndex((row) => row.includes("warning: model 'hydra' is deprecated"));
        expect(start).toBeGreaterThanOrEqual(0);
        // capture-pane -J joins rows the terminal wrapped itself: a row wider than the screen broke mid-word.
        const warning = [rows[start]!];
        for (const row of rows.slice(start + 1)) {
          if (!row.startsWith('  ')) break;
          warning.push(row);
        }
        for (const row of warning) expect(row.length, row).toBeLessThanOrEqual(width);
        const text = warning.map((row) => row.trim()).join(' ');
        expect(text).toMatch(/warning: model 'hydra' is deprecated; use hydra-v1\.0 — migrate with --model hydra-v1\.0 and one of its voices \(hydra-chat voices\)$/);
        if (width === 160) expect(warning).toHaveLength(1);
        else expect(warning.length).toBeGreaterThan(1);
      } finally {
        await term.kill();
      }
    });
  }
});
