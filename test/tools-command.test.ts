/** `tools check` and `tools call` through commander, as the CLI registers them, with captured output. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HydraError } from '../src/errors.js';
import { registerToolsCommand } from '../src/tools/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-tools-command-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ out: string[]; err: string[]; error: unknown }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().exitOverride();
  registerToolsCommand(program, { out: (line) => out.push(line), err: (line) => err.push(line) });
  const error = await program.parseAsync(['node', 'x', 'tools', ...args]).then(
    () => null,
    (e: unknown) => e,
  );
  return { out, err, error };
}

describe('tools command', () => {
  it('check lists each tool with kind, timeout and parameter names', async () => {
    const { out, error } = await cli('check', 'test/fixtures/tools/agent.ts');
    expect(error).toBeNull();
    expect(out).toEqual([
      'test/fixtures/tools/agent.ts: 2 tools, valid',
      '  get_weather  handler  timeout 2000 ms  (city, units)',
      '  ping  result  timeout 5000 ms  ()',
    ]);
  });

  it('check fails with a config-invalid HydraError on an invalid file', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify([{ name: 'a' }]));
    const { out, error } = await cli('check', path);
    expect(out).toEqual([]);
    expect(error).toBeInstanceOf(HydraError);
    expect(error).toMatchObject({ code: 'config-invalid', message: `${path}: tool "a": handler: missing: give exactly one of handler, result, command, http` });
  });

  it('call runs a tool as the model would and prints its output', async () => {
    const { out, error } = await cli('call', 'test/fixtures/tools/agent.ts', 'get_weather', '{"city":"Oslo","units":"f"}');
    expect(error).toBeNull();
    expect(out).toEqual(['{"city":"OSLO","temp":54,"units":"f"}']);
    expect((await cli('call', 'test/fixtures/tools/agent.ts', 'ping')).out).toEqual(['pong']);
  });

  it('call prints the error output and fails with a tool HydraError when the run fails', async () => {
    const { out, err, error } = await cli('call', 'test/fixtures/tools/agent.ts', 'get_weather', '{"units":"k"}');
    expect(out).toEqual([]);
    expect(JSON.parse(err[0]!).error).toMatch(/^invalid arguments: /);
    expect(error).toMatchObject({ code: 'tool', message: expect.stringMatching(/^tool "get_weather" failed after \d+ ms: invalid arguments: /) });
    const unknown = await cli('call', 'test/fixtures/tools/agent.ts', 'nope');
    expect(unknown.error).toMatchObject({ code: 'usage', message: 'test/fixtures/tools/agent.ts: no tool "nope" (tools: get_weather, ping)' });
  });

  it('call: a failure whose stderr has several lines is one line of error; the model’s output keeps them', async () => {
    const path = join(dir, 'multi.json');
    await writeFile(path, JSON.stringify([{ name: 'fail', command: ['sh', '-c', 'echo one >&2; echo two >&2; exit 3'] }]));
    const { err, error } = await cli('call', path, 'fail');
    expect(JSON.parse(err[0]!).error).toBe('sh exited with code 3: one\ntwo');
    expect(error).toMatchObject({ code: 'tool', message: expect.stringMatching(/^tool "fail" failed after \d+ ms: sh exited with code 3: one ⏎ two$/) });
  });
});
