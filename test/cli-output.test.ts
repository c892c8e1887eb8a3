/**
 * Output modes of the real CLI when piped: --quiet prints only errors, --verbose every frame type with
 * its timing and the audio elided.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-cli-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const turn = (...extra: string[]) => ['--mock', '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, 'out.wav'), '--trailing-silence', '1000', '--force', ...extra];

describe('output modes', () => {
  it('--quiet: nothing on stdout or stderr when all goes well, the error alone when it does not', async () => {
    const ok = await cli(turn('--quiet'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toBe('');
    const bad = await cli(['--mock', '--quiet', '--input', join(dir, 'missing.wav')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/missing\.wav/);
    expect(bad.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('--verbose: every frame type both ways with its time, audio elided, deltas folded', async () => {
    const run = await cli(turn('--verbose'));
    expect(run.code).toBe(0);
    const text = run.stdout + run.stderr;
    expect(text).toMatch(/^→ \d+:\d\d\.\d session\.configure \{/m);
    for (const type of ['session.created', 'session.configured', 'input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped', 'response.created', 'response.done']) {
      expect(text).toMatch(new RegExp(`^← \\d+:\\d\\d\\.\\d ${type.replace(/\./g, '\\.')} `, 'm'));
    }
    expect(text).toMatch(/^← \d+:\d\d\.\d response\.output_audio\.delta ×\d+ \(\d+ bytes of audio\)/m);
    // No base64 audio anywhere: a long run of base64 would be an unelided delta.
    expect(text).not.toMatch(/[A-Za-z0-9+/]{200,}/);
  });
});
