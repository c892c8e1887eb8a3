/**
 * The API key and tools (the real CLI against the real simulator): a command tool's environment holds
 * no copy of the key, under any name (SMALLEST_API_KEY, another variable holding it, the --api-key
 * value exported elsewhere); a tool whose output contains the key (it read a config file) answers the
 * model with it redacted, so the model cannot say it aloud, and the screen and logs never show it.
 * A scenario's transcript.jsonl is redacted like --json.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../src/mock/server.js';
import { createToolRunner, validateAgentConfig } from '../src/tools/index.js';
import type { ClientEvent } from '../src/protocol.js';
import { registerSecret } from '../src/redact.js';
import { TranscriptWriter } from '../src/scenario/transcript.js';
import { silence, tone, writeWav16k } from './fixtures/faults/harness.js';
import { cli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-tools-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENV_KEY = 'sk-env-4b1d9c2e7f';
const FLAG_KEY = 'sk-flag-8a3e6d0c5b';

describe('the API key and command tools', () => {
  it('no copy of the key reaches a tool’s environment, and an output holding it reaches nobody', async () => {
    const sim = await createSimulator({
      responseDelayMs: 20,
      realtimeFactor: 20,
      rules: [{ turn: 1, calls: [{ name: 'env_dump', arguments: {} }, { name: 'read_config', arguments: {} }] }],
    });
    const outputs = new Map<string, string>();
    const callNames = new Map<string, string>();
    sim.on('server-frame', (_id, frame) => {
      if (frame.type === 'response.function_call_arguments.done') callNames.set(String(frame.call_id), String(frame.name));
    });
    sim.on('client-frame', (_id, event: ClientEvent) => {
      if (event.type === 'conversation.item.create' && event.item.type === 'function_call_output') outputs.set(event.item.call_id ?? '', event.item.output ?? '');
    });
    try {
      writeFileSync(join(dir, 'settings.ini'), `key=${ENV_KEY}\nfallback=${FLAG_KEY}\nregion=eu\n`);
      const file = join(dir, 'tools.json');
      writeFileSync(file, JSON.stringify({ tools: [{ name: 'env_dump', command: ['env'] }, { name: 'read_config', command: ['cat', 'settings.ini'] }] }));
      const utterance = join(dir, 'ask.wav');
      writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
      const args = ['--json', '--url', sim.url, '--api-key', FLAG_KEY, '--tools', file, '--input', utterance, '--output', join(dir, 'out.wav'), '--trailing-silence', '600000'];
      const env = { SMALLEST_API_KEY: ENV_KEY, KEY_COPY: ENV_KEY, FLAG_COPY: `Bearer ${FLAG_KEY}`, TOOL_VISIBLE: 'yes' };
      const run = await cli(args, env, 30_000, /"type":"response\.create"/);
      expect(run.matched, run.stderr).toBe(true);
      const byName = new Map([...outputs].map(([callId, output]) => [callNames.get(callId) ?? callId, output]));
      const environment = byName.get('env_dump');
      expect(environment).toContain('TOOL_VISIBLE=yes'); // the rest of the environment is passed on
      expect(environment).not.toMatch(/SMALLEST_API_KEY=|KEY_COPY=|FLAG_COPY=/);
      expect(byName.get('read_config')).toBe('key=***\nfallback=***\nregion=eu\n');
      for (const text of [run.stdout, run.stderr, ...outputs.values()]) {
        expect(text).not.toContain(ENV_KEY);
        expect(text).not.toContain(FLAG_KEY);
      }
    } finally {
      await sim.close();
    }
  });
});

describe('a key cut in two', () => {
  const key = 'sk-cut-0123456789abcdef';
  const node = process.execPath;

  it('by the output cap (the head) or the stderr tail: no 4 characters of it remain', async () => {
    registerSecret(key);
    const print = `let s='';process.stdin.on('data',(c)=>s+=c).on('end',()=>process.stdout.write('x'.repeat(JSON.parse(s).at)+${JSON.stringify(key)}+'y'.repeat(5000)))`;
    const tools = [
      { name: 'long', parameters: { type: 'object', properties: { at: { type: 'integer' } } }, command: [node, '-e', print] },
      { name: 'fail', command: [node, '-e', `process.stderr.write(${JSON.stringify(key)}+'z'.repeat(490));process.exit(1)`] },
    ];
    const runner = createToolRunner(validateAgentConfig(tools, join(dir, 'tools.json')), { maxOutputBytes: 200 });
    const signal = new AbortController().signal;
    // The head keeps 200 bytes less the marker: every start near that cut splits the key somewhere.
    for (let at = 100; at < 140; at++) {
      const { output } = await runner.run('long', JSON.stringify({ at }), { signal, callId: `call_${at}` });
      expect(output).toContain('…[truncated');
      expect(output, `key at ${at}`).not.toContain(key.slice(0, 4));
    }
    const failed = await runner.run('fail', '{}', { signal, callId: 'call_fail' });
    expect(failed.output).toMatch(/exited with code 1: \*\*\*z/);
    expect(failed.output).not.toContain(key.slice(-4));
  });
});

describe('scenario transcripts', () => {
  it('transcript.jsonl never holds a registered key', () => {
    registerSecret('sk-transcript-31f0a9');
    const path = join(dir, 'transcript.jsonl');
    const writer = TranscriptWriter.open(path, 0);
    writer.note({ type: 'error', message: 'invalid key sk-transcript-31f0a9' }, 5);
    writer.close();
    expect(readFileSync(path, 'utf8')).toContain('"message":"invalid key ***"');
  });
});
