/**
 * The tool boundary against what a hostile server, config or handler can hand it: whatever a handler
 * throws, the model gets a readable error output (the runner never rejects); arguments nested
 * deeper than any real call are refused with a message saying so (not "not valid JSON"); a schema
 * that contains itself, a $ref loop or a schema nested past reason is refused at load naming the
 * problem (not "Maximum call stack size exceeded"); a command with a NUL in its argv is refused at load.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ToolDefinition } from '../src/tools/define.js';
import { createToolRunner, validateAgentConfig, type AgentToolRunner } from '../src/tools/index.js';
import { cli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-tools-adversary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runnerFor = (tools: ToolDefinition[]): AgentToolRunner => createToolRunner(validateAgentConfig(tools, join(dir, 'hydra.tools.ts')));
const call = (runner: AgentToolRunner, name: string, args = '{}') => runner.run(name, args, { signal: new AbortController().signal, callId: 'call_1' });
const load = (parameters: unknown) => () => runnerFor([{ name: 'shape', parameters: parameters as Record<string, unknown>, result: 'ok' }]);

describe('handlers that throw what cannot be read', () => {
  it('a thrown Proxy whose every trap throws, or a `message` getter that throws: an error output, not a rejection', async () => {
    const unreadable = new Proxy({}, { get: () => { throw new Error('get trap'); }, getPrototypeOf: () => { throw new Error('prototype trap'); } });
    const runner = runnerFor([
      { name: 'proxy', handler: () => Promise.reject(unreadable) },
      { name: 'getter', handler: () => Promise.reject({ get message(): string { throw 42; } }) },
    ]);
    for (const name of ['proxy', 'getter']) {
      const result = await call(runner, name);
      expect(result.ok).toBe(false);
      expect(JSON.parse(result.output)).toEqual({ error: 'the tool failed with a value that cannot be read' });
    }
  });

  it('an empty message says that the tool gave no reason', async () => {
    const runner = runnerFor([
      { name: 'error', handler: () => Promise.reject(new Error('')) },
      { name: 'text', handler: () => Promise.reject('  ') },
    ]);
    for (const name of ['error', 'text']) expect((await call(runner, name)).error).toBe('the tool failed without saying why (an empty message)');
  });
});

describe('a handler that calls process.exit', () => {
  it('fails its call with an error output (directly or after an await); the process goes on, and exit outside handlers is untouched', async () => {
    const runner = runnerFor([
      { name: 'quit_now', handler: () => process.exit(3) },
      { name: 'quit_later', handler: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        process.exit(0);
      } },
    ]);
    expect((await call(runner, 'quit_now')).error).toBe('tool "quit_now" called process.exit(3); a handler cannot end hydra-chat (throw an Error to fail the call)');
    expect((await call(runner, 'quit_later')).error).toMatch(/^tool "quit_later" called process.exit\(0\)/);
    // Outside a handler's context process.exit still exits (vitest's own guard reports the call).
    expect(() => process.exit(7)).toThrow(/process\.exit unexpectedly called with "7"/);
  });

  it('the real CLI: `tools call` on such a handler fails with the tool error (exit 16), not a silent exit 0', async () => {
    const file = join(dir, 'quitter.tools.ts');
    writeFileSync(file, `export default [{ name: 'quit', handler: () => process.exit(0) }];\n`);
    const run = await cli(['tools', 'call', file, 'quit']);
    expect(run.code).toBe(16);
    expect(run.stderr).toMatch(/error: tool "quit" failed after \d+ ms: tool "quit" called process\.exit\(0\)/);
  });
});

describe('arguments nested deeper than any real call', () => {
  const nested = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

  it('are refused with a message saying so; up to the limit they reach the handler', async () => {
    const runner = runnerFor([{ name: 'echo', handler: () => 'ran' }]);
    for (const text of [nested(200_000), '['.repeat(1_000_000) + ']'.repeat(1_000_000), `{"list":${'['.repeat(150)}${']'.repeat(150)}}`]) {
      const result = await call(runner, 'echo', text);
      expect(result.error).toBe('invalid arguments: nested more than 100 levels deep');
    }
    expect(await call(runner, 'echo', nested(100))).toMatchObject({ ok: true, output: 'ran' });
  });

  it('a __proto__ key at any depth is still dropped', async () => {
    let seen: unknown;
    const runner = runnerFor([{ name: 'keep', handler: (args: unknown) => ((seen = args), 'ok') }]);
    await call(runner, 'keep', '{"a":[{"__proto__":{"polluted":true},"b":1}],"__proto__":{"x":1}}');
    expect(seen).toEqual({ a: [{ b: 1 }] });
    expect(Object.getPrototypeOf((seen as { a: object[] }).a[0])).toBe(Object.prototype);
  });
});

describe('schemas that cannot be checked as written', () => {
  it('an object that contains itself (a code config) is refused naming the cycle', () => {
    const cyclic: Record<string, unknown> = { type: 'object', properties: {} };
    (cyclic.properties as Record<string, unknown>).self = cyclic;
    expect(load(cyclic)).toThrow(/tool "shape": parameters: the schema contains itself \(a cycle\); express recursion with "\$ref"/);
  });

  it('a $ref loop is refused naming it', () => {
    const loop = { type: 'object', definitions: { a: { $ref: '#/definitions/b' }, b: { $ref: '#/definitions/a' } }, properties: { x: { $ref: '#/definitions/a' } } };
    expect(load(loop)).toThrow(/tool "shape": parameters: a "\$ref" leads back to itself without a schema in between \(a \$ref loop\)/);
  });

  it('a schema nested past reason is refused naming the depth', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 20_000; i++) deep = { type: 'object', properties: { a: deep } };
    expect(load(deep)).toThrow(/tool "shape": parameters: nested more than 200 levels deep/);
  });

  it('a schema object shared by many properties (not a cycle) loads', () => {
    const city = { type: 'string', minLength: 1 };
    expect(load({ type: 'object', properties: { from: city, to: city } })).not.toThrow();
  });
});

describe('command tools', () => {
  it('a NUL in the program or an argument is refused at load, naming the field', () => {
    for (const command of [['ca\u0000t'], ['cat', 'a\u0000b']]) {
      expect(() => runnerFor([{ name: 'nul', command }])).toThrow(/tool "nul": command: must not contain NUL characters/);
    }
  });
});

describe('what would fail on every call is refused at load', () => {
  const loadTool = (tool: Record<string, unknown>) => () => runnerFor([{ name: 'bad', ...tool } as ToolDefinition]);

  it('an http tool whose URL carries a password (fetch would quote it to the model on every call)', () => {
    expect(loadTool({ http: { url: 'https://user:hunter2@api.example.com/x' } })).toThrow(/tool "bad": http\.url: must not carry a user name or password/);
  });

  it('an http header with an invalid name, or a value with a line break or NUL', () => {
    expect(loadTool({ http: { url: 'https://api.example.com/x', headers: { 'X Key': 'a' } } })).toThrow(/tool "bad": http\.headers: "X Key" is not a valid header name/);
    for (const value of ['a\r\nInjected: 1', 'a\u0000b']) {
      expect(loadTool({ http: { url: 'https://api.example.com/x', headers: { 'X-Key': value } } })).toThrow(/tool "bad": http\.headers\.X-Key: must not contain line breaks or NUL characters/);
    }
  });

  it('a canned result that cannot be sent as JSON (a BigInt, a cycle)', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(loadTool({ result: { total: 10n } })).toThrow(/tool "bad": result: must be JSON-serialisable \(Do not know how to serialize a BigInt\)/);
    expect(loadTool({ result: cycle })).toThrow(/tool "bad": result: must be JSON-serialisable \(Converting circular structure to JSON/);
  });
});

describe('the shipped example', () => {
  it('lookup_order finds no order named like an Object.prototype member', async () => {
    for (const id of ['constructor', '__proto__', 'toString']) {
      const run = await cli(['tools', 'call', 'examples/hydra.tools.json', 'lookup_order', JSON.stringify({ order_id: id })]);
      expect(JSON.parse(run.stdout), run.stderr).toEqual({ order_id: id, error: 'no such order' });
    }
    const found = await cli(['tools', 'call', 'examples/hydra.tools.json', 'lookup_order', '{"order_id":"A17"}']);
    expect(JSON.parse(found.stdout)).toEqual({ order_id: 'A17', status: 'shipped', eta: 'tomorrow' });
  });
});

