/**
 * The real CLI against a hostile Hydra server (test/support/strict-server.ts with hooks): whatever the
 * server does, the run ends by itself within its documented timeouts, with one clear line, the README's
 * exit code, no stack trace, the key never printed, a valid --output WAV, and no frame of ours that
 * breaks the protocol.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, type Run } from './support/cli-process.js';
import { startStrictServer, type StrictConnection, type StrictOptions, type StrictServer } from './support/strict-server.js';
import { silence, tone, wavSizes, writeWav16k } from './fixtures/faults/harness.js';

const KEY = 'sk_hostile_test_key_98765';
const ENV = { SMALLEST_API_KEY: KEY };
let dir: string;
let utterance: string;
const servers: StrictServer[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hydra-hostile-'));
  utterance = join(dir, 'utterance.wav');
  writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

let outputs = 0;

/** Runs the CLI on `utterance` against a strict server with `options`; checks what every run must hold. */
async function against(options: Partial<StrictOptions>, extra: string[] = [], timeoutMs = 20_000): Promise<Run & { server: StrictServer; output: string }> {
  const server = await startStrictServer({ apiKey: KEY, ...options });
  servers.push(server);
  const output = join(dir, `out-${(outputs += 1)}.wav`);
  const run = await cli(['--url', server.url, '--input', utterance, '--output', output, ...extra], ENV, timeoutMs);
  expect(server.violations).toEqual([]);
  expect(run.stdout + run.stderr).not.toContain(KEY);
  expect(run.stdout + run.stderr).not.toMatch(/\n\s+at |Error:/);
  return { ...run, server, output };
}

const delta = (responseId: string, bytes = 960): Record<string, unknown> => ({
  type: 'response.output_audio.delta',
  response_id: responseId,
  item_id: 'item_a1',
  output_index: 0,
  content_index: 0,
  delta: Buffer.alloc(bytes, 1).toString('base64'),
});
const custom = (run: (conn: StrictConnection) => void): StrictOptions['plan'] => () => ({ kind: 'custom', run });

describe('a server that stops answering (no close)', () => {
  it('mid-reply, after some audio: exit 19 within --reply-timeout, one line, the audio so far in a valid WAV', async () => {
    const run = await against(
      { plan: custom((conn) => (conn.send({ type: 'response.created', response: { id: 'resp_r1' } }), conn.send(delta('resp_r1')))) },
      ['--reply-timeout', '1'],
    );
    expect(run.code, run.stdout).toBe(19);
    expect(run.stderr).toMatch(/^error: the reply stopped: nothing from the server for 1 s in the middle of a response \(turn in \S+utterance\.wav\)$/m);
    expect(wavSizes(run.output)).toMatchObject({ dataBytes: 960, riffBytes: 36 + 960, sampleRate: 48000 });
  });

  it('mid-way through a tool call\'s arguments: exit 19 within --reply-timeout', async () => {
    const run = await against(
      {
        plan: custom((conn) => {
          conn.send({ type: 'response.created', response: { id: 'resp_r1' } });
          conn.send({ type: 'response.function_call_arguments.delta', response_id: 'resp_r1', call_id: 'call_1', name: 'get_weather', delta: '{"ci' });
        }),
      },
      ['--reply-timeout', '1'],
    );
    expect(run.code, run.stdout).toBe(19);
    expect(run.stderr).toMatch(/^error: the reply stopped: nothing from the server for 1 s in the middle of a response/m);
  });
});

describe('a server that hears speech start and never its end', () => {
  it('speech_started, then nothing: exit 19 once the input, its trailing silence and --reply-timeout have passed', async () => {
    const run = await against({ hooks: { speechStarted: (conn) => conn.mute() } }, ['--reply-timeout', '1', '--trailing-silence', '500']);
    expect(run.code, run.stdout).toBe(19);
    expect(run.stderr).toMatch(/^error: the server heard speech in \S+utterance\.wav but never ended the turn \(no speech_stopped within 1 s after the input ended\)$/m);
  });
});

describe('server text cannot forge lines', () => {
  it('newlines in an error, an event type, an id, a tool name and a close reason stay inside their one line', async () => {
    // A hostile server's attempt to print a line of its own choosing (after escape sequences and a CR).
    const forged = 'a\u001b[31m\r\nerror: forged\nhydra  ▸ forged';
    const run = await against(
      {
        hooks: {
          configure: (conn) =>
            void setImmediate(() => {
              conn.send({ type: 'error', error: { type: 'invalid_request_error', code: `c${forged}`, message: `m${forged}`, param: `p${forged}` } });
              conn.send({ type: `x.${forged}` });
              conn.send({ type: 'response.done', response: { id: `r${forged}`, status: 'completed' } });
            }),
        },
        plan: (turn) => (turn === 0 ? { kind: 'tool', calls: [{ name: `t${forged}`, arguments: {} }] } : { kind: 'reply' }),
      },
      [],
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = (run.stdout + run.stderr).split('\n');
    expect(lines.filter((line) => /^(error: forged|hydra {2}▸ forged)/.test(line))).toEqual([]);
    expect(lines.filter((line) => /forged/.test(line)).length).toBeGreaterThanOrEqual(4); // shown, but inside their own lines
  });

  it('a close reason with a newline: the error is one line', async () => {
    const run = await against({ hooks: { speechStarted: (conn) => conn.socket.close(4001, 'going\nerror: forged') } }, ['--max-retries', '0']);
    expect(run.code).toBe(9);
    expect(run.stderr).toBe('error: the server closed the connection (code 4001: going error: forged)\n');
  });
});
