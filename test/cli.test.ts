/**
 * The built CLI as a user runs it: a real process, the in-process simulator, real files.
 * (npm test builds dist/ before the suite runs.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav.js';
import { cli } from './support/cli-process.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hydra-chat CLI', () => {
  it('--help lists the options and exits 0', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--voice', '--model', '--mock', '--input', '--output', '--json', '--api-key', '--greet', '--url']) {
      expect(run.stdout).toContain(flag);
    }
  });

  it('a usage error in a subcommand exits 2 like one in the main command; its --help and `help <command>` exit 0', async () => {
    const runs = await Promise.all([
      cli(['--no-such-flag']),
      cli(['config', 'set', 'voice']),
      cli(['voices', '--model', 'x']),
      cli(['tools', 'call']),
      cli(['tools', 'check', '--bogus', 'x.json']),
      cli(['simulate', '--nope']),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/^error: /);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const help = await cli(['tools', 'check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: hydra-chat tools check');
    // `hydra-chat help <command>` as well (it was taken for extra arguments of the chat command).
    const helpCommand = await cli(['help', 'config']);
    expect(helpCommand.code, helpCommand.stderr).toBe(0);
    expect(helpCommand.stdout).toContain('Usage: hydra-chat config');
  });

  it('without a key and without --mock says how to set one or try --mock', async () => {
    const run = await cli(['--input', 'test/fixtures/hello-16k.wav']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('SMALLEST_API_KEY');
    expect(run.stderr).toContain('--mock');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('--mock --input --output runs a whole turn, writes a 48 kHz WAV and exits 0', async () => {
    const output = join(dir, 'reply.wav');
    const run = await cli(['--mock', '--input', 'test/fixtures/hello-16k.wav', '--output', output, '--voice', 'reed']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const wav = await readWav(output);
    expect(wav.sampleRate).toBe(48000);
    expect(wav.channels).toBe(1);
    expect(wav.pcm.length).toBeGreaterThan(48000);
    expect(run.stdout).toMatch(/V2V \d+ ms/);
  });

  it('--json prints one JSON event per line, both directions, audio elided, key redacted', async () => {
    const key = 'sk-test-0123456789abcdef';
    const run = await cli(['--mock', '--json', '--greet', '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, 'j.wav')], {
      SMALLEST_API_KEY: key,
    });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const frames = events.filter((e) => e.frame !== undefined) as { dir: string; frame: { type: string; audio?: string; delta?: string } }[];
    expect(frames.some((f) => f.dir === 'out' && f.frame.type === 'session.configure')).toBe(true);
    expect(frames.some((f) => f.dir === 'out' && f.frame.type === 'input_audio_buffer.append')).toBe(true);
    expect(frames.some((f) => f.dir === 'in' && f.frame.type === 'response.output_audio.delta')).toBe(true);
    for (const f of frames) {
      if (f.frame.audio !== undefined) expect(f.frame.audio).toMatch(/^<\d+ bytes>$/);
      if (f.frame.type === 'response.output_audio.delta') expect(f.frame.delta).toMatch(/^<\d+ bytes>$/);
    }
    expect(events.some((e) => e.event === 'turn')).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: 'end', reason: 'input-finished' });
    expect(run.stdout + run.stderr).not.toContain(key);
  });

  it('warns about an unknown voice, naming the valid ones, and still runs', async () => {
    const run = await cli(['--mock', '--model', 'hydra', '--voice', 'nobody', '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, 'v.wav')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"nobody" is not a hydra voice');
    expect(run.stdout).toContain('wren, sloane, marlowe, reed, knox, tate');
  });

  it('a missing input file is a one-line error with its own exit code', async () => {
    const run = await cli(['--mock', '--input', join(dir, 'nope.wav')]);
    expect(run.code).toBe(14);
    expect(run.stderr).toContain('nope.wav');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('shows the model_deprecated warning with the migration hint (a voice of the hydra roster picks hydra)', async () => {
    const run = await cli(['--mock', '--greet', '--voice', 'reed', '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, 'd.wav')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('deprecated');
    expect(run.stdout).toContain('--model hydra-v1.0');
  });
});
