/**
 * The stand-alone simulator (`hydra-chat simulate`, a real process on a real port) against hostile
 * clients: whatever one client declares or sends, the process survives, answers within bounds, and
 * the next client is served.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoCallForTurn } from '../src/mock/auto-calls.js';
import { connectProbe, readPcm16Wav, sendPcm, silence16k, type Probe } from '../src/mock/probe.js';

let child: ChildProcess;
let url: string;
let stderr = '';
let turn: Buffer;

beforeAll(async () => {
  turn = Buffer.concat([(await readPcm16Wav(new URL('./fixtures/hello-16k.wav', import.meta.url).pathname)).pcm, silence16k(800)]);
  child = spawn(process.execPath, ['bin/hydra-chat.js', 'simulate', '--port', '0', '--realtime-factor', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let out = '';
  for await (const chunk of child.stdout!) {
    out += (chunk as Buffer).toString();
    const found = /listening on (ws:\/\/\S+)/.exec(out);
    if (found) {
      url = found[1]!;
      break;
    }
  }
});

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGINT');
    await once(child, 'close');
  }
});

async function configured(tools: unknown[]): Promise<Probe> {
  const probe = await connectProbe(url, { model: 'hydra', api_key: 'k' });
  probe.send({ type: 'session.configure', session: { tools } });
  await probe.waitFor('session.configured');
  return probe;
}

/** The simulator still serves a fresh session: configure, one user turn, a reply. */
async function stillServes(): Promise<void> {
  const probe = await configured([]);
  sendPcm(probe, turn);
  await probe.waitFor('response.done', { timeoutMs: 10_000 });
  probe.socket.terminate();
}

const tool = (parameters: unknown) => ({ type: 'function', name: 'hostile', parameters });

describe('hostile tool schemas and automatic tool calls', () => {
  it.each([
    ['a 1e9-character minLength', { type: 'object', properties: { a: { type: 'string', minLength: 1e9 } } }],
    ['a 1e10-item minItems', { type: 'object', properties: { a: { type: 'array', minItems: 1e10 } } }],
    ['nested arrays of 40^4 items', { type: 'object', properties: { a: { type: 'array', minItems: 40, items: { type: 'array', minItems: 40, items: { type: 'array', minItems: 40, items: { type: 'array', minItems: 40 } } } } } }],
  ])('%s: the turn gets a call with small arguments, and the process lives on', async (_label, parameters) => {
    const probe = await configured([tool(parameters)]);
    sendPcm(probe, turn);
    const call = await probe.waitFor('response.function_call_arguments.done', { timeoutMs: 10_000 });
    expect(call.name).toBe('hostile');
    expect(String(call.arguments).length).toBeLessThan(64 * 1024);
    probe.socket.terminate();
    await stillServes();
    expect(child.exitCode, stderr).toBe(null);
  });

  it('keys named __proto__ are plain keys: an allOf part cannot lend its prototype to the merged schema', () => {
    const parameters = JSON.parse('{"type":"object","properties":{"a":{"allOf":[{"__proto__":{"const":7}},{"type":"string"}]}}}') as unknown;
    const [call] = autoCallForTurn([tool(parameters) as never], 1);
    expect(JSON.parse(call!.arguments)).toEqual({ a: 'example a' });
  });
});

describe('hostile frames', () => {
  const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it('a frame nested 200 000 levels deep is an invalid_frame; a configure that deep still configures', async () => {
    const probe = await connectProbe(url, { model: 'hydra', api_key: 'k' });
    const tools = `[{"type":"function","name":"x","parameters":{"type":"object","x":${deep(200_000)}}}]`;
    probe.send(`{"type":"session.configure","event_id":"evt_deep","session":{"instructions":"Be brief.","tools":${tools}}}`);
    const configured = await probe.waitFor('session.configured');
    expect(configured.session).toMatchObject({ instructions: 'Be brief.', tools: [] });
    expect(probe.ofType('error')[0]).toMatchObject({ error: { code: 'invalid_frame', event_id: 'evt_deep' } });
    for (const frame of [`{"type":"zzz","a":${deep(200_000)}}`, `{"type":"session.update","session":{"tools":${tools}}}`]) {
      const count = probe.frames.length;
      probe.send(frame);
      expect(await probe.waitFor('error', { after: count })).toMatchObject({ error: { code: 'invalid_frame' } });
    }
    probe.socket.terminate();
    await stillServes();
    expect(child.exitCode, stderr).toBe(null);
  });

  it('a failure while handling one frame ends that session with internal_error and 1011; the process serves the next', async () => {
    // Rules whose arguments nest too deeply to encode: the first user turn fails inside the simulator.
    const dir = mkdtempSync(join(tmpdir(), 'hydra-sim-hostile-'));
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, `[{"turn":1,"calls":[{"name":"f","arguments":{"a":${deep(200_000)}}}]}]`);
    const own = spawn(process.execPath, ['bin/hydra-chat.js', 'simulate', '--port', '0', '--rules', rules], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const ownUrl = await new Promise<string>((resolve, reject) => {
        own.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const found = /listening on (ws:\/\/\S+)/.exec(out);
          if (found) resolve(found[1]!);
        });
        own.on('close', () => reject(new Error('simulate exited')));
      });
      for (let session = 1; session <= 2; session++) {
        const probe = await connectProbe(ownUrl, { model: 'hydra', api_key: 'k' });
        probe.send({ type: 'session.configure', session: { tools: [{ type: 'function', name: 'f' }] } });
        await probe.waitFor('session.configured');
        sendPcm(probe, turn);
        expect(await probe.waitFor('error', { timeoutMs: 10_000 })).toMatchObject({ error: { type: 'server_error', code: 'internal_error' } });
        expect((await probe.closed).code).toBe(1011);
        expect(own.exitCode).toBe(null);
      }
    } finally {
      own.kill('SIGINT');
      await once(own, 'close');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
