/**
 * Tool calls from a hostile server, against the real CLI: a frame nested far deeper than any Hydra
 * frame (a call whose arguments object is 100 000 levels deep, an unknown event with such a payload)
 * is ignored with one note; it does not crash the client ("Maximum call stack size exceeded" from
 * the decoder or the --json log), and the session goes on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../src/mock/server.js';
import { silence, tone, writeWav16k } from './fixtures/faults/harness.js';
import { startCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-tools-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('frames nested past reason', () => {
  it('are ignored with a note; the client keeps running and reads the next frame', async () => {
    const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20 });
    const utterance = join(dir, 'ask.wav');
    writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
    const run = startCli(['--json', '--url', sim.url, '--input', utterance, '--output', join(dir, 'out.wav'), '--trailing-silence', '600000'], { SMALLEST_API_KEY: 'sk-deep' });
    try {
      await run.waitFor((line) => line.dir === 'in' && line.frame?.type === 'session.configured');
      sim.inject({ raw: `{"type":"response.function_call_arguments.done","event_id":"e1","call_id":"call_deep","name":"t","arguments":${deep(100_000)}}` });
      sim.inject({ raw: `{"type":"response.future_thing","event_id":"e2","payload":${deep(100_000)}}` });
      sim.inject({ raw: '{"type":"response.marker_after","event_id":"e3"}' });
      await run.waitFor((line) => line.dir === 'in' && line.frame?.type === 'response.marker_after');
      const notes = run.lines.filter((line) => line.event === 'note' && String(line.message).includes('nested more than'));
      expect(notes.length, run.stderr()).toBeGreaterThanOrEqual(1);
      expect(run.stderr()).not.toMatch(/internal error|Maximum call stack/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      await sim.close();
    }
  });
});
