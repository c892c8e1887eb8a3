/**
 * The tool runner on real handlers, real child processes and a real local HTTP server: argument
 * checking, timeouts, aborts, failures and output capping all end in an answer, never a rejection.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ToolDefinition } from '../src/tools/define.js';
import { createToolRunner, validateAgentConfig, type AgentToolRunner } from '../src/tools/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-tools-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A runner over validated tools, as if loaded from a config in `dir` (command tools run there). */
function runnerFor(tools: ToolDefinition[], options: { maxOutputBytes?: number } = {}): AgentToolRunner {
  return createToolRunner(validateAgentConfig(tools, join(dir, 'hydra.tools.ts')), options);
}

const call = (runner: AgentToolRunner, name: string, args: string, signal = new AbortController().signal) =>
  runner.run(name, args, { signal, callId: 'call_1' });
const errorOf = (output: string): string => (JSON.parse(output) as { error: string }).error;
const node = process.execPath;

describe('createToolRunner', () => {
  it('declares tools with their JSON Schema', async () => {
    const runner = runnerFor([{ name: 'ping', description: 'Liveness.', result: 'pong' }]);
    expect(runner.declarations()).toEqual([
      { type: 'function', name: 'ping', description: 'Liveness.', parameters: { type: 'object', properties: {}, required: [] } },
    ]);
    expect((await call(runner, 'ping', ''))).toMatchObject({ ok: true, output: 'pong' });
  });

  it('answers schema-invalid and unparsable arguments with an error the model can act on', async () => {
    let ran = false;
    const runner = runnerFor([
      {
        name: 'weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
        handler: () => (ran = true),
      },
    ]);
    const invalid = await call(runner, 'weather', '{"city": 7}');
    expect(invalid.ok).toBe(false);
    expect(errorOf(invalid.output)).toBe('invalid arguments: arguments/city must be string');
    const missing = await call(runner, 'weather', '{}');
    expect(errorOf(missing.output)).toContain("must have required property 'city'");
    const garbled = await call(runner, 'weather', '{"city": "Par');
    expect(errorOf(garbled.output)).toMatch(/^invalid arguments: not valid JSON/);
    const unknown = await call(runner, 'nope', '{}');
    expect(errorOf(unknown.output)).toBe('unknown tool "nope"');
    expect(ran).toBe(false);
  });

  it('answers a zod refinement that throws instead of rejecting', async () => {
    const runner = runnerFor([
      {
        name: 'strict',
        parameters: z.object({ n: z.number() }).refine(() => {
          throw new Error('refinement blew up');
        }),
        result: 'never',
      },
    ]);
    const run = await call(runner, 'strict', '{"n":1}');
    expect(run).toMatchObject({ ok: false, error: 'invalid arguments: refinement blew up' });
  });

  it('turns a throwing handler into an error output with its message', async () => {
    const runner = runnerFor([
      { name: 'sync', handler: () => { throw new Error('database down'); } },
      { name: 'async', handler: async () => Promise.reject(new Error('also down')) },
    ]);
    const sync = await call(runner, 'sync', '{}');
    expect(sync).toMatchObject({ ok: false, error: 'database down', output: '{"error":"database down"}' });
    expect(errorOf((await call(runner, 'async', '{}')).output)).toBe('also down');
  });

  it('stops waiting for a hanging handler at its timeout and aborts its signal', async () => {
    let handlerSignal: AbortSignal | undefined;
    const runner = runnerFor([
      {
        name: 'hang',
        timeoutMs: 100,
        handler: (_args, { signal }) => {
          handlerSignal = signal;
          return new Promise(() => undefined);
        },
      },
    ]);
    const run = await call(runner, 'hang', '{}');
    expect(run.ok).toBe(false);
    expect(errorOf(run.output)).toBe('tool timed out after 100 ms');
    expect(run.durationMs).toBeGreaterThanOrEqual(95);
    expect(run.durationMs).toBeLessThan(2000);
    expect(handlerSignal?.aborted).toBe(true);
  });

  it('answers at once when the outer signal aborts, and the handler sees the abort', async () => {
    const controller = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let handlerSignal: AbortSignal | undefined;
    const runner = runnerFor([
      {
        name: 'slow',
        timeoutMs: 60_000,
        handler: (_args, { signal }) => {
          handlerSignal = signal;
          started();
          return new Promise(() => undefined);
        },
      },
      { name: 'never', handler: () => 'ran' },
    ]);
    const result = call(runner, 'slow', '{}', controller.signal);
    await running;
    controller.abort();
    expect(await result).toMatchObject({ ok: false, error: 'cancelled' });
    expect(handlerSignal?.aborted).toBe(true);
    expect(await call(runner, 'never', '{}', AbortSignal.abort())).toMatchObject({ ok: false, error: 'cancelled' });
  });

  it('stringifies values, keeps strings as they are and caps oversized output as valid UTF-8', async () => {
    const runner = runnerFor(
      [
        { name: 'object', handler: () => ({ temp_c: 12 }) },
        { name: 'nothing', handler: () => undefined },
        { name: 'big', handler: () => 'é'.repeat(200) },
        { name: 'cyclic', handler: () => { const a: Record<string, unknown> = {}; a.self = a; return a; } },
      ],
      { maxOutputBytes: 101 },
    );
    expect((await call(runner, 'object', '{}')).output).toBe('{"temp_c":12}');
    expect((await call(runner, 'nothing', '{}')).output).toBe('null');
    const big = await call(runner, 'big', '{}');
    expect(big.ok).toBe(true);
    expect(Buffer.byteLength(big.output)).toBeLessThanOrEqual(101);
    expect(big.output).toMatch(/^(é)+…\[truncated \d+ bytes\]$/);
    const kept = big.output.indexOf('…');
    const dropped = Number(/truncated (\d+) bytes/.exec(big.output)![1]);
    expect(Buffer.byteLength(big.output.slice(0, kept)) + dropped).toBe(400);
    expect(Buffer.from(big.output).toString('utf8')).toBe(big.output); // no replacement characters
    expect((await call(runner, 'cyclic', '{}')).error).toMatch(/not JSON-serialisable/);
  });

  it('runs a command without a shell: metacharacters arrive verbatim on stdin and nothing is executed', async () => {
    const marker = join(tmpdir(), `pwned-${process.pid}-${Date.now()}`);
    const script = join(dir, 'echo-stdin.sh');
    await writeFile(script, '#!/bin/sh\nprintf "argv:%s|" "$@"\ncat\n');
    await chmod(script, 0o755);
    const runner = runnerFor([
      { name: 'echo', command: ['./echo-stdin.sh', '$(touch ' + marker + ')'], parameters: { type: 'object', properties: { q: { type: 'string' } } } },
    ]);
    const hostile = `"; touch ${marker}; echo '$(touch ${marker})' \`touch ${marker}\` | rm -rf / && x`;
    const args = JSON.stringify({ q: hostile });
    const run = await call(runner, 'echo', args);
    expect(run.ok).toBe(true);
    expect(run.output).toBe(`argv:$(touch ${marker})|${args}`);
    expect(JSON.parse(run.output.slice(run.output.indexOf('|') + 1))).toEqual({ q: hostile });
    expect(existsSync(marker)).toBe(false);
  });

  it('reports a non-zero exit with its code and the end of stderr', async () => {
    const runner = runnerFor([
      { name: 'fail', command: [node, '-e', "process.stderr.write('x'.repeat(2000) + ' disk full'); process.exit(3)"] },
      { name: 'missing', command: ['./no-such-program'] },
    ]);
    const run = await call(runner, 'fail', '{}');
    expect(run.ok).toBe(false);
    const error = errorOf(run.output);
    expect(error).toMatch(/ exited with code 3: x+ disk full$/);
    expect(error.length).toBeLessThan(700); // the last 500 bytes of stderr, not all of it
    expect(errorOf((await call(runner, 'missing', '{}')).output)).toMatch(/^cannot run \.\/no-such-program: .*ENOENT/);
  });

  it('kills a command that outlives its timeout', async () => {
    const runner = runnerFor([{ name: 'sleepy', timeoutMs: 150, command: [node, '-e', 'setTimeout(() => {}, 60000)'] }]);
    const run = await call(runner, 'sleepy', '{}');
    expect(errorOf(run.output)).toBe('tool timed out after 150 ms');
    expect(run.durationMs).toBeLessThan(5000);
  });

  it('posts the arguments to an http tool and reports a 500 as an error', async () => {
    const requests: { method: string; url: string; type: string | undefined; auth: string | undefined; body: string }[] = [];
    const server: Server = createServer(async (request: IncomingMessage, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      requests.push({ method: request.method!, url: request.url!, type: request.headers['content-type'], auth: request.headers.authorization, body });
      if (request.url === '/broken') {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('upstream exploded');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: JSON.parse(body || '{}') }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const runner = runnerFor([
        { name: 'order', http: { url: `${base}/order`, headers: { authorization: 'Bearer t' } } },
        { name: 'broken', http: { url: `${base}/broken` } },
        { name: 'search', http: { url: `${base}/search`, method: 'get' } },
      ]);
      const ok = await call(runner, 'order', '{"order_id":"A17"}');
      expect(ok).toMatchObject({ ok: true, output: '{"echoed":{"order_id":"A17"}}' });
      expect(requests[0]).toEqual({ method: 'POST', url: '/order', type: 'application/json', auth: 'Bearer t', body: '{"order_id":"A17"}' });
      const failed = await call(runner, 'broken', '{}');
      expect(failed.ok).toBe(false);
      expect(errorOf(failed.output)).toBe('HTTP 500 Internal Server Error: upstream exploded');
      await call(runner, 'search', '{"q":"a b","n":2}');
      expect(requests[2]).toMatchObject({ method: 'GET', url: '/search?q=a+b&n=2', body: '' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('GET: the config URL\'s query parameters win over the model\'s arguments, which may only add', async () => {
    const seen: string[] = [];
    const server: Server = createServer((request, response) => {
      seen.push(request.url!);
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const runner = runnerFor([{ name: 'weather', http: { url: `${base}/weather?key=CONFIGSECRET&units=metric`, method: 'GET' } }]);
      const run = await call(runner, 'weather', '{"key":"MODEL_OVERRIDE","units":"imperial","city":"Oslo"}');
      expect(run).toMatchObject({ ok: true, output: 'ok' });
      expect(seen).toEqual(['/weather?key=CONFIGSECRET&units=metric&city=Oslo']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('tools and call ids named like Object.prototype members are ordinary names', async () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    const runner = runnerFor(names.map((name) => ({ name, handler: (_args: unknown, { callId }: { callId: string }) => `${name}:${callId}` })));
    expect(runner.declarations().map((tool) => tool.name)).toEqual(names);
    for (const name of names) {
      expect(await runner.run(name, '{}', { signal: new AbortController().signal, callId: name })).toMatchObject({ ok: true, output: `${name}:${name}` });
    }
    const bare = runnerFor([{ name: 'ping', result: 'pong' }]);
    for (const name of names) expect((await call(bare, name, '{}')).error).toBe(`unknown tool "${name}"`);
    // A JSON config naming a tool "__proto__" loads as a tool, not as a prototype.
    const fromJson = validateAgentConfig(JSON.parse('{"tools":[{"name":"__proto__","result":"p"}]}'), join(dir, 'proto.json'));
    expect(fromJson.tools.map((tool) => tool.name)).toEqual(['__proto__']);
  });

  it('replace() swaps the tools for later calls', async () => {
    const runner = runnerFor([{ name: 'a', result: 'A' }]);
    const next = runnerFor([{ name: 'b', result: 'B' }]);
    runner.replace(next.agent());
    expect(runner.declarations().map((t) => t.name)).toEqual(['b']);
    expect((await call(runner, 'b', '{}')).output).toBe('B');
    expect((await call(runner, 'a', '{}')).ok).toBe(false);
  });
});
