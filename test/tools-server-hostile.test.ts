/**
 * Tool calls from a hostile server, against the real CLI: a frame nested far deeper than any Hydra
 * frame (a call whose arguments object is 100 000 levels deep, an unknown event with such a payload)
 * is ignored with one note; it does not crash the client ("Maximum call stack size exceeded" from
 * the decoder or the --json log), and the session goes on. Arguments streamed in many tiny deltas cost
 * each delta a bounded note (the --json log and the status line), not the whole text so far.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../src/mock/server.js';
import { initialState, reduce, type State } from '../src/session.js';
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

describe('arguments streamed in tiny deltas', () => {
  it('each delta’s note carries a bounded preview, so 100 000 deltas cost linear, not quadratic, output', () => {
    let state: State = initialState({ voice: 'wren' });
    const step = (event: Record<string, unknown>): ReturnType<typeof reduce>['effects'] => {
      const result = reduce(state, { type: 'server', event: event as never, at: 0 });
      state = result.state;
      return result.effects;
    };
    step({ type: 'response.created', response: { id: 'r1', status: 'in_progress' } });
    let noted = 0;
    let last = '';
    for (let i = 0; i < 100_000; i++) {
      for (const effect of step({ type: 'response.function_call_arguments.delta', response_id: 'r1', call_id: 'c1', name: 'lookup', delta: 'a' })) {
        if (effect.type === 'show' && effect.note.kind === 'tool-args') {
          noted += effect.note.argumentsText.length;
          last = effect.note.argumentsText;
        }
      }
    }
    expect(noted).toBeLessThanOrEqual(100_000 * 200);
    expect(last.startsWith('a'.repeat(100))).toBe(true);
    const [run] = step({ type: 'response.function_call_arguments.done', response_id: 'r1', call_id: 'c1', name: 'lookup', arguments: '{}' }).filter((e) => e.type === 'run-tool');
    expect(run).toMatchObject({ callId: 'c1', argumentsText: '{}' });
  });
});

