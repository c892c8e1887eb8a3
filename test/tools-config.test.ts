/**
 * Loading tools configs: JSON and TypeScript (through jiti, importing 'hydra-chat'), and the one-line
 * errors for invalid ones, each naming the file, the tool and the field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { HydraError } from '../src/errors.js';
import { defineTool } from '../src/index.js';
import { createToolRunner, findDefaultToolsFile, loadAgentConfig } from '../src/tools/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-tools-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function loadError(path: string): Promise<HydraError> {
  const error = await loadAgentConfig(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HydraError);
  expect((error as HydraError).code).toBe('config-invalid');
  expect((error as HydraError).message).not.toContain('\n');
  return error as HydraError;
}

describe('loadAgentConfig', () => {
  it('loads a JSON config with result, command and http tools', async () => {
    const path = await write('kinds.json', {
      instructions: 'Be brief.',
      voice: 'wren',
      tools: [
        { name: 'ping', description: 'Liveness.', result: { pong: true } },
        { name: 'echo', parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, command: ['./echo.sh'], timeoutMs: 250 },
        { name: 'lookup', http: { url: 'http://127.0.0.1:9/lookup', method: 'POST', headers: { authorization: 'Bearer x' } } },
      ],
    });
    const agent = await loadAgentConfig(path);
    expect(agent).toMatchObject({ path: resolve(path), instructions: 'Be brief.', voice: 'wren' });
    expect(agent.tools.map((t) => [t.name, t.kind, t.timeoutMs])).toEqual([
      ['ping', 'result', 5000],
      ['echo', 'command', 250],
      ['lookup', 'http', 5000],
    ]);
    expect(agent.tools[0]!.parameters).toEqual({ type: 'object', properties: {}, required: [] });
    expect(agent.tools[1]!.parameters).toMatchObject({ required: ['text'] });
  });

  it('accepts a bare array of tools', async () => {
    const agent = await loadAgentConfig(await write('array.json', [{ name: 'ping', result: 'pong' }]));
    expect(agent.tools.map((t) => t.name)).toEqual(['ping']);
  });

  it("loads a TypeScript config importing defineTool from 'hydra-chat', converting zod parameters", async () => {
    const agent = await loadAgentConfig('test/fixtures/tools/agent.ts');
    expect(agent).toMatchObject({ instructions: 'You help with the weather.', voice: 'reed', greet: false });
    const weather = agent.tools.find((t) => t.name === 'get_weather')!;
    expect(weather).toMatchObject({ kind: 'handler', timeoutMs: 2000, description: 'Current weather for a city.' });
    expect(weather.parameters).toMatchObject({
      type: 'object',
      properties: { city: { type: 'string', minLength: 1 }, units: { enum: ['c', 'f'] } },
      required: ['city'],
    });
    expect(weather.parameters).not.toHaveProperty('$schema');
    // The zod schema checks the call and supplies defaults, as its inferred type promises the handler.
    const runner = createToolRunner(agent);
    const run = await runner.run('get_weather', '{"city":"paris"}', { signal: new AbortController().signal, callId: 'c1' });
    expect(run).toMatchObject({ ok: true, output: '{"city":"PARIS","temp":12,"units":"c"}' });
    const bad = await runner.run('get_weather', '{"city":""}', { signal: new AbortController().signal, callId: 'c2' });
    expect(bad.ok).toBe(false);
    expect(JSON.parse(bad.output).error).toMatch(/^invalid arguments: arguments\.city: /);
  });

  it('re-imports an edited TypeScript config (no module cache)', async () => {
    const path = join(dir, 'edited.ts');
    await writeFile(path, `export default [{ name: 'one', result: 1 }];`);
    expect((await loadAgentConfig(path)).tools.map((t) => t.name)).toEqual(['one']);
    await writeFile(path, `export default [{ name: 'two', result: 2 }];`);
    expect((await loadAgentConfig(path)).tools.map((t) => t.name)).toEqual(['two']);
  });

  it('types handler arguments from a zod schema', () => {
    const tool = defineTool({
      name: 'typed',
      parameters: z.object({ city: z.string(), days: z.number().optional() }),
      handler: (args) => {
        expectTypeOf(args).toEqualTypeOf<{ city: string; days?: number | undefined }>();
        return args.city;
      },
    });
    expect(tool.name).toBe('typed');
  });

  it.each([
    ['duplicate name', [{ name: 'a', result: 1 }, { name: 'a', result: 2 }], 'tool "a": name: duplicate'],
    ['a bad name', [{ name: 'has space', result: 1 }], 'tool "has space": name: must be'],
    ['non-object parameters', [{ name: 'a', result: 1, parameters: { type: 'string' } }], 'tool "a": parameters: must be a JSON Schema with "type": "object"'],
    ['an uncompilable schema', [{ name: 'a', result: 1, parameters: { type: 'object', properties: { x: { type: 'nope' } } } }], 'tool "a": parameters: '],
    ['no handler', [{ name: 'a' }], 'tool "a": handler: missing'],
    ['two handlers', [{ name: 'a', result: 1, command: ['true'] }], 'tool "a": result, command: give only one'],
    ['a bad timeout', [{ name: 'a', result: 1, timeoutMs: 0 }], 'tool "a": timeoutMs: must be a positive'],
    ['a timeout a timer would overflow', [{ name: 'a', result: 1, timeoutMs: 3_000_000_000 }], 'tool "a": timeoutMs: must be a positive whole number of milliseconds, at most 600000 (10 min); got 3000000000'],
    ['a timeout over 10 min', [{ name: 'a', result: 1, timeoutMs: 600_001 }], 'tool "a": timeoutMs: must be a positive whole number'],
    ['a fractional timeout', [{ name: 'a', result: 1, timeoutMs: 1.5 }], 'tool "a": timeoutMs: must be a positive whole number'],
    ['a negative timeout', [{ name: 'a', result: 1, timeoutMs: -5 }], 'tool "a": timeoutMs: must be a positive whole number'],
    ['a string timeout', [{ name: 'a', result: 1, timeoutMs: '5000' }], 'tool "a": timeoutMs: must be a positive whole number'],
    ['a misspelt field', [{ name: 'a', comand: ['true'], result: 1 }], 'tool "a": comand: unknown field'],
    ['an empty command', [{ name: 'a', command: [] }], 'tool "a": command: must be a non-empty array'],
    ['a bad url', [{ name: 'a', http: { url: 'ftp://x' } }], 'tool "a": http.url: must be an http'],
    ['a handler in JSON', [{ name: 'a', handler: 'x.js' }], 'tool "a": handler: must be a function'],
  ])('rejects %s', async (_what, tools, expected) => {
    const path = await write('bad.json', { tools });
    expect((await loadError(path)).message).toContain(`${path}: ${expected}`);
  });

  it('names the file for a JSON syntax error, a missing file, an unknown type and a throwing module', async () => {
    const json = await write('syntax.json', '{ "tools": [ }');
    expect((await loadError(json)).message).toMatch(new RegExp(`^${json}: not valid JSON: `));
    const missing = join(dir, 'missing.json');
    expect((await loadError(missing)).message).toBe(`${missing}: no such file`);
    const yaml = await write('tools.yaml', 'tools: []');
    expect((await loadError(yaml)).message).toContain(`${yaml}: unsupported file type ".yaml"`);
    const throwing = await write('throws.ts', `throw new Error('boom at import');\nexport default [];`);
    expect((await loadError(throwing)).message).toBe(`${throwing}: failed to load: boom at import`);
    const broken = await write('broken.ts', `export default [{ name: 'a', result: `);
    expect((await loadError(broken)).message).toMatch(new RegExp(`^${broken}: failed to load: `));
    const notAgent = await write('number.json', '42');
    expect((await loadError(notAgent)).message).toContain(`${notAgent}: the default export must be an agent`);
  });
});

describe('findDefaultToolsFile', () => {
  it('finds hydra.tools.json only: a code config next to it is skipped with one line saying how to use it', async () => {
    const here = await mkdtemp(join(dir, 'cwd-'));
    const skipped: string[] = [];
    expect(findDefaultToolsFile(here, (line) => skipped.push(line))).toBeNull();
    await writeFile(join(here, 'hydra.tools.json'), '[]');
    expect(findDefaultToolsFile(here, (line) => skipped.push(line))).toBe(join(here, 'hydra.tools.json'));
    expect(skipped).toEqual([]);
    await writeFile(join(here, 'hydra.tools.mjs'), 'export default [];');
    expect(findDefaultToolsFile(here, (line) => skipped.push(line))).toBe(join(here, 'hydra.tools.json'));
    expect(skipped).toEqual([
      'hydra.tools.mjs is in this folder but was not run: code configs run with your permissions, so they load only when named (hydra-chat --tools hydra.tools.mjs)',
    ]);
  });
});

describe('a code config that never finishes loading', () => {
  it('times out naming the file, and an abort stops the wait at once', async () => {
    const path = await write('never.ts', 'await new Promise(() => {});\nexport default [];\n');
    const slow = await loadAgentConfig(path, { timeoutMs: 300 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(slow).toMatchObject({ code: 'config-invalid', message: `${path}: did not finish loading within 0.3 s (a top-level await that never settles?)` });
    const controller = new AbortController();
    const loading = loadAgentConfig(path, { signal: controller.signal }).then(
      () => null,
      (e: unknown) => e,
    );
    controller.abort();
    expect(await loading).toMatchObject({ code: 'interrupted', message: `stopped while loading ${path}` });
  });
});
