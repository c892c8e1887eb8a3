/**
 * Tools against hostile sizes and counts (issue 13, items 1, 5 and 13): output is capped while it is
 * read (a command printing 1 GB, `yes`, an HTTP body of 700 MB) and the source is stopped; a schema
 * whose regex backtracks catastrophically on a model-chosen argument costs the call its timeout, not
 * the process its main thread; many concurrent calls on one session signal are all answered and
 * print no listener warning. Memory is measured on the real built CLI (`tools call`), as its peak RSS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ToolDefinition } from '../src/tools/define.js';
import { createToolRunner, validateAgentConfig, type AgentToolRunner } from '../src/tools/index.js';
import { createSimulator } from '../src/mock/server.js';
import { silence, tone, writeWav16k } from './fixtures/faults/harness.js';
import { cli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-tools-bounds-'));
const peakProbe = join(dir, 'peak.cjs');
let server: Server;
let base: string;
const sent = { bytes: 0, closedEarly: false };

beforeAll(async () => {
  // Preloaded into the CLI: its peak resident memory, printed on exit.
  writeFileSync(peakProbe, "process.on('exit', () => require('fs').writeSync(2, `\\npeak-rss-kb=${process.resourceUsage().maxRSS}\\n`));\n");
  // 700 MB of 'x', written as fast as the client reads it, until it hangs up.
  server = createServer((_request, response) => {
    sent.bytes = 0;
    sent.closedEarly = false;
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(700 * 1024 * 1024) });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      while (sent.bytes < 700 * 1024 * 1024) {
        sent.bytes += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      response.end();
    };
    response.on('close', () => (sent.closedEarly = sent.bytes < 700 * 1024 * 1024));
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
});

function runnerFor(tools: ToolDefinition[]): AgentToolRunner {
  return createToolRunner(validateAgentConfig(tools, join(dir, 'hydra.tools.ts')));
}
const call = (runner: AgentToolRunner, name: string, args = '{}', signal = new AbortController().signal, callId = 'call_1') =>
  runner.run(name, args, { signal, callId });

/** `hydra-chat tools call` on a JSON config, with its peak RSS in KB. */
async function toolsCall(tools: unknown[], name: string): Promise<{ code: number | null; stdout: string; stderr: string; peakKb: number }> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ tools }));
  const run = await cli(['tools', 'call', file, name], { NODE_OPTIONS: `--require ${peakProbe}` }, 60_000);
  const peak = /peak-rss-kb=(\d+)/.exec(run.stderr);
  expect(peak, run.stderr).not.toBeNull();
  return { ...run, peakKb: Number(peak![1]) };
}

describe('tool output is bounded while it is read', () => {
  it('a command printing 1 GB, `yes` and a 700 MB HTTP body: the CLI stays small, answers the head marked truncated, and stops the source', async () => {
    const baseline = await toolsCall([{ name: 'small', command: ['echo', 'hi'] }], 'small');
    expect(baseline).toMatchObject({ code: 0, stdout: 'hi\n\n' });

    const gigabyte = await toolsCall([{ name: 'gigabyte', command: ['head', '-c', '1000000000', '/dev/zero'], timeoutMs: 60_000 }], 'gigabyte');
    const yes = await toolsCall([{ name: 'yes', command: ['yes'], timeoutMs: 60_000 }], 'yes');
    const http = await toolsCall([{ name: 'huge', http: { url: `${base}/huge`, method: 'GET' }, timeoutMs: 60_000 }], 'huge');
    for (const run of [gigabyte, yes, http]) {
      expect(run.code, run.stderr).toBe(0); // answered (ok), not timed out, not crashed
      expect(run.stdout).toMatch(/…\[truncated: the output passed 16384 bytes, so the tool was stopped\]\n$/);
      expect(Buffer.byteLength(run.stdout)).toBeLessThanOrEqual(16 * 1024 + 1);
      expect(run.peakKb - baseline.peakKb, `peak RSS ${run.peakKb} KB vs ${baseline.peakKb} KB`).toBeLessThan(48 * 1024);
    }
    expect(yes.stdout.startsWith('y\ny\ny\n')).toBe(true);
    expect(http.stdout.startsWith('xxxx')).toBe(true);
    expect(sent.closedEarly).toBe(true); // the request was aborted, not read to the end
  }, 120_000);

  it('the runner answers at once with a valid UTF-8 head and kills the command, well before its timeout', async () => {
    const runner = runnerFor([
      { name: 'flood', timeoutMs: 60_000, command: [process.execPath, '-e', "for (;;) process.stdout.write('é'.repeat(1000))"] },
    ]);
    const run = await call(runner, 'flood');
    expect(run.ok).toBe(true);
    expect(run.durationMs).toBeLessThan(30_000);
    expect(Buffer.byteLength(run.output)).toBeLessThanOrEqual(16 * 1024);
    expect(run.output).toMatch(/^(é)+…\[truncated: /);
  });

  it('an HTTP error body is read only as far as the error message needs', async () => {
    const big = createServer((_request, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'e');
      const pump = (): void => {
        while (response.write(chunk));
        response.once('drain', pump);
      };
      response.on('close', () => response.removeAllListeners('drain'));
      pump();
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(big.address() as AddressInfo).port}/`;
      const run = await call(runnerFor([{ name: 'broken', timeoutMs: 60_000, http: { url } }]), 'broken');
      expect(run.ok).toBe(false);
      expect(run.error).toMatch(/^HTTP 500 Internal Server Error: e{400,500}$/);
    } finally {
      big.closeAllConnections();
      await new Promise((resolve) => big.close(resolve));
    }
  });
});

describe('argument checks cannot freeze the process', () => {
  const evil = JSON.stringify({ word: `${'a'.repeat(60)}!` });

  it.each([
    ['a JSON Schema pattern', { type: 'object', properties: { word: { type: 'string', pattern: '^(a+)+$' } } }],
    ['patternProperties', { type: 'object', patternProperties: { '^w': { type: 'string', pattern: '^(a|aa)+$' } } }],
    ['a zod .regex', z.object({ word: z.string().regex(/^(a+)+$/) })],
  ])('%s with a catastrophic argument: the call times out and the event loop keeps turning', async (_what, parameters) => {
    const schema = parameters as ToolDefinition['parameters'];
    // `check` gives up quickly; `patient` (the same schema) then shows the checker recovered, with time to spare.
    const runner = runnerFor([
      { name: 'check', timeoutMs: 300, parameters: schema, result: 'ran' },
      { name: 'patient', timeoutMs: 20_000, parameters: schema, result: 'ran' },
    ]);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    try {
      const run = await call(runner, 'check', evil);
      expect(run).toMatchObject({ ok: false, error: "invalid arguments: checking them took longer than the tool's timeout (300 ms)" });
      expect(run.durationMs).toBeLessThan(10_000);
      expect(ticks).toBeGreaterThan(2); // timers ran while the check did
    } finally {
      clearInterval(ticker);
    }
    // The checker recovered: ordinary arguments are checked as before, with the usual messages.
    expect(await call(runner, 'patient', '{"word":"aaaa"}')).toMatchObject({ ok: true, output: 'ran' });
    const wrong = await call(runner, 'patient', '{"word":"b"}');
    expect(wrong.ok).toBe(false);
    expect(wrong.error).toMatch(/^invalid arguments: arguments.*(pattern|match|Invalid)/i);
  });

  it('a quit during a slow check answers "cancelled" at once and spares the calls checked alongside', async () => {
    const runner = runnerFor([
      { name: 'slow', timeoutMs: 60_000, parameters: { type: 'object', properties: { word: { type: 'string', pattern: '^(a+)+$' } } }, result: 'ran' },
      { name: 'fine', timeoutMs: 60_000, parameters: { type: 'object', properties: { word: { type: 'string', pattern: '^a+$' } } }, result: 'fine' },
    ]);
    const quit = new AbortController();
    const slow = call(runner, 'slow', evil, quit.signal);
    const fine = call(runner, 'fine', '{"word":"aaa"}', new AbortController().signal, 'call_2'); // queued behind the slow one
    quit.abort();
    expect(await slow).toMatchObject({ ok: false, error: 'cancelled' });
    expect(await fine).toMatchObject({ ok: true, output: 'fine' });
  });

  it('the real CLI mid-check: SIGTERM still ends the run at once (exit 143)', async () => {
    const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, rules: [{ turn: 1, calls: [{ name: 'check', arguments: JSON.parse(evil) }] }] });
    try {
      const file = join(dir, 'regex.json');
      const parameters = { type: 'object', properties: { word: { type: 'string', pattern: '^(a+)+$' } } };
      writeFileSync(file, JSON.stringify({ tools: [{ name: 'check', timeoutMs: 600_000, parameters, result: 'ran' }] }));
      const utterance = join(dir, 'utterance.wav');
      writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
      const args = ['--json', '--url', sim.url, '--tools', file, '--input', utterance, '--output', join(dir, 'out.wav'), '--trailing-silence', '600000'];
      const run = await cli(args, { SMALLEST_API_KEY: 'sk-bounds-test' }, 20_000, /"type":"response\.function_call_arguments\.done"/);
      expect(run.matched).toBe(true);
      expect(run.code, run.stderr).toBe(143);
    } finally {
      await sim.close();
    }
  });
});

describe('many calls at once', () => {
  it('100 concurrent calls on one session signal: each is answered, no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started = 0;
      const runner = runnerFor([
        {
          name: 'wait',
          parameters: { type: 'object', properties: { n: { type: 'number' } } },
          handler: async ({ n }: { n: number }) => {
            if (++started === 100) release();
            await gate;
            return { n };
          },
        },
      ]);
      const session = new AbortController();
      const runs = await Promise.all(Array.from({ length: 100 }, (_, n) => call(runner, 'wait', JSON.stringify({ n }), session.signal, `call_${n}`)));
      expect(runs.map((run) => run.output)).toEqual(Array.from({ length: 100 }, (_, n) => JSON.stringify({ n })));
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('the real CLI with 12 calls in one turn: all answered, no listener warning on stderr', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `tool_${i}`);
    const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, rules: [{ turn: 1, calls: names.map((name) => ({ name, arguments: {} })) }] });
    try {
      const file = join(dir, 'many.json');
      // Each takes a second, so all twelve are open at once.
      writeFileSync(file, JSON.stringify({ tools: names.map((name) => ({ name, command: ['sh', '-c', `sleep 1; echo ${name}`] })) }));
      const utterance = join(dir, 'many.wav');
      writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
      const args = ['--json', '--url', sim.url, '--tools', file, '--input', utterance, '--output', join(dir, 'many-out.wav'), '--trailing-silence', '600000'];
      const run = await cli(args, { SMALLEST_API_KEY: 'sk-bounds-test' }, 30_000, /"type":"response\.create"[\s\S]*"event":"turn"/);
      const outputs = run.stdout.split('\n').filter((line) => line.includes('"dir":"out"') && line.includes('"function_call_output"'));
      expect(outputs).toHaveLength(12);
      expect(run.stderr).not.toMatch(/MaxListenersExceededWarning|TimeoutOverflowWarning/);
    } finally {
      await sim.close();
    }
  });
});
