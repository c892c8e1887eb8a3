/**
 * Tools against hostile schemas, arguments and outputs: what a config author may legitimately write
 * (recursive schemas, zod's recursive objects) loads; names from Object.prototype are neither
 * satisfied by the prototype nor able to lend one; a tool's output cannot drive the terminal.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ToolDefinition } from '../src/tools/define.js';
import { createToolRunner, validateAgentConfig, type AgentToolRunner } from '../src/tools/index.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-tools-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runnerFor = (tools: ToolDefinition[]): AgentToolRunner => createToolRunner(validateAgentConfig(tools, join(dir, 'hydra.tools.ts')));
const call = (runner: AgentToolRunner, name: string, args: string) => runner.run(name, args, { signal: new AbortController().signal, callId: 'call_1' });

describe('schemas', () => {
  it('recursive schemas load and check: $ref "#", and a zod object that contains itself', async () => {
    type Node = { name: string; children?: Node[] };
    const node: z.ZodType<Node> = z.object({
      name: z.string(),
      get children() {
        return z.array(node).optional();
      },
    });
    const runner = runnerFor([
      { name: 'tree', parameters: { type: 'object', properties: { name: { type: 'string' }, child: { $ref: '#' } } }, result: 'ok' },
      { name: 'zod_tree', parameters: node, result: 'ok' },
    ]);
    expect((await call(runner, 'tree', '{"child":{"child":{"name":"leaf"}}}')).ok).toBe(true);
    expect((await call(runner, 'tree', '{"child":{"child":{"name":5}}}')).output).toMatch(/invalid arguments: .*child\/child\/name must be string/);
    expect((await call(runner, 'zod_tree', '{"name":"a","children":[{"name":"b"}]}')).ok).toBe(true);
    expect((await call(runner, 'zod_tree', '{"name":"a","children":[{"name":5}]}')).ok).toBe(false);
  });

  it('two tools may share an $id', () => {
    const parameters = { $id: 'https://example.com/args', type: 'object' };
    expect(runnerFor([{ name: 'a', parameters, result: 1 }, { name: 'b', parameters: { ...parameters }, result: 2 }]).declarations()).toHaveLength(2);
  });

  it('a required property named like an Object.prototype member is not met by the prototype', async () => {
    const runner = runnerFor([{ name: 'a', parameters: { type: 'object', required: ['toString', 'constructor'] }, result: 'ok' }]);
    expect((await call(runner, 'a', '{}')).output).toMatch(/invalid arguments: .*must have required property 'toString'/);
    expect((await call(runner, 'a', '{"toString":"x","constructor":1}')).ok).toBe(true);
  });

  it('a schema with a "__proto__" key is refused at load, naming the tool (ajv would never check it)', () => {
    const parameters = JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}},"required":["__proto__"]}') as Record<string, unknown>;
    expect(() => runnerFor([{ name: 'proto', parameters, result: 'ok' }])).toThrow(/tool "proto": parameters: a key named "__proto__" cannot be checked/);
  });

  it('a "__proto__" key in the model’s arguments never reaches the handler as a prototype', async () => {
    let merged: Record<string, unknown> = {};
    const runner = runnerFor([
      {
        name: 'merge',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
        handler: (args: Record<string, unknown>) => {
          merged = Object.assign({}, args); // the habit that turns an own __proto__ key into a prototype
          return 'ok';
        },
      },
    ]);
    expect((await call(runner, 'merge', '{"city":"Oslo","__proto__":{"isAdmin":true}}')).ok).toBe(true);
    expect(merged).toEqual({ city: 'Oslo' });
    expect((merged as { isAdmin?: boolean }).isAdmin).toBeUndefined();
  });
});

describe('handlers that throw what is not an Error', () => {
  it('the model is told what was thrown, not "[object Object]"', async () => {
    const runner = runnerFor([
      { name: 'object', handler: () => Promise.reject({ message: 'the shop is closed', status: 503 }) },
      { name: 'code', handler: () => Promise.reject({ code: 'E_CLOSED' }) },
      { name: 'text', handler: () => Promise.reject('closed') },
      { name: 'nothing', handler: () => Promise.reject(null) },
    ]);
    expect((await call(runner, 'object', '{}')).error).toBe('the shop is closed');
    expect((await call(runner, 'code', '{}')).error).toBe('{"code":"E_CLOSED"}');
    expect((await call(runner, 'text', '{}')).error).toBe('closed');
    expect((await call(runner, 'nothing', '{}')).error).toBe('null');
  });
});

describe('hydra-chat tools call', () => {
  const printf = (text: string) => ({ name: 'page', command: ['printf', text] });

  it('on a terminal, a tool’s output cannot change the title, clear the screen or write the clipboard; piped it is passed on as is', () => {
    const file = join(dir, 'escapes.json');
    writeFileSync(file, JSON.stringify({ tools: [printf('\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;aGk=\x07weather: sunny')] }));
    // `script` gives the CLI a real pseudo-terminal as stdout.
    const onTty = spawnSync('script', ['-qec', `${process.execPath} bin/hydra-chat.js tools call ${file} page`, '/dev/null'], { encoding: 'latin1', timeout: 20_000 });
    expect(onTty.stdout).toContain('weather: sunny');
    expect(onTty.stdout).not.toMatch(/\x1b|\x07/);
    const piped = spawnSync(process.execPath, ['bin/hydra-chat.js', 'tools', 'call', file, 'page'], { encoding: 'latin1', timeout: 20_000 });
    expect(piped.stdout).toBe('\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;aGk=\x07weather: sunny\n');
  });

  it('tools check lists parameter names without their escape sequences', () => {
    const file = join(dir, 'names.json');
    const parameters = { type: 'object', properties: { '\x1b]0;PWNED\x07city': { type: 'string' }, ['x'.repeat(200)]: { type: 'string' } } };
    writeFileSync(file, JSON.stringify({ tools: [{ name: 'weather', parameters, result: 'sunny' }] }));
    const check = spawnSync(process.execPath, ['bin/hydra-chat.js', 'tools', 'check', file], { encoding: 'utf8', timeout: 20_000 });
    expect(check.status).toBe(0);
    expect(check.stdout).toContain(`weather  result  timeout 5000 ms  (city, ${'x'.repeat(80)}… (120 more))`);
    expect(check.stdout).not.toMatch(/\x1b|\x07/);
  });
});

describe('http tools and redirects', () => {
  type Seen = { server: string; method: string; path: string; key: string | undefined; body: string };
  const seen: Seen[] = [];
  const listen = async (name: string, route: (request: IncomingMessage) => { status: number; location?: string; body?: string }): Promise<{ server: Server; base: string }> => {
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ server: name, method: request.method!, path: request.url!, key: request.headers['x-api-key'] as string | undefined, body });
        const answer = route(request);
        response.writeHead(answer.status, answer.location === undefined ? {} : { location: answer.location }).end(answer.body ?? '');
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };

  it("the config's headers go only to its own origin: a redirect elsewhere is followed without them", async () => {
    const other = await listen('other', () => ({ status: 200, body: 'landed elsewhere' }));
    const own = await listen('own', (request) =>
      request.url!.startsWith('/away') ? { status: 302, location: `${other.base}/landing` }
      : request.url!.startsWith('/submit') ? { status: 303, location: '/result' }
      : request.url!.startsWith('/loop') ? { status: 307, location: '/loop' }
      : { status: 200, body: 'landed at home' },
    );
    try {
      const http = (path: string, method = 'GET') => ({ url: `${own.base}${path}`, method, headers: { 'x-api-key': 'CONFIG-SECRET' } });
      const runner = runnerFor([
        { name: 'away', http: http('/away') },
        { name: 'submit', http: http('/submit', 'POST') },
        { name: 'loop', http: http('/loop') },
      ]);
      expect((await call(runner, 'away', '{}')).output).toBe('landed elsewhere');
      expect(seen.filter((request) => request.server === 'other')).toEqual([{ server: 'other', method: 'GET', path: '/landing', key: undefined, body: '' }]);

      seen.length = 0;
      expect((await call(runner, 'submit', '{"order":1}')).output).toBe('landed at home');
      expect(seen).toEqual([
        { server: 'own', method: 'POST', path: '/submit', key: 'CONFIG-SECRET', body: '{"order":1}' },
        { server: 'own', method: 'GET', path: '/result', key: 'CONFIG-SECRET', body: '' },
      ]);
      expect((await call(runner, 'loop', '{}')).output).toMatch(/failed: more than 10 redirects/);
    } finally {
      for (const { server } of [own, other]) {
        server.closeAllConnections();
        server.close();
      }
    }
  });
});
