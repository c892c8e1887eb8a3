/**
 * A handler's own console output (console.log debugging, the habit of every TS config author, or a
 * direct process.stdout.write) is the handler's, not the CLI's stdout: under --json it becomes a
 * `tool-log` event (stdout stays NDJSON, the key redacted); `hydra-chat tools call … | jq` gets only the tool's output, the log on stderr.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../src/mock/server.js';
import { silence, tone, writeWav16k } from './fixtures/faults/harness.js';
import { cli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-tools-console-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = 'sk-console-5e2a7b9d1c';
const entry = resolve('src/index.ts');

/** A TS config whose handler logs (with the key) through console.log, console.error and console.table. */
function chattyConfig(): string {
  const file = join(dir, 'chatty.tools.ts');
  writeFileSync(
    file,
    `import { defineTool } from ${JSON.stringify(entry)};
console.log('config loading');
export default [defineTool({ name: 'lookup', handler: async () => {
  console.log('looking up', { key: process.env.SMALLEST_API_KEY });
  console.error('warning from the handler');
  console.table([{ a: 1 }]);
  await new Promise((resolve) => setTimeout(resolve, 1));
  process.stdout.write('direct to stdout\\n');
  process.stderr.write('direct to stderr\\n');
  return 'found';
} })];
`,
  );
  return file;
}

describe('a handler that writes to the console', () => {
  it('--json: stdout stays one JSON object a line; the log lines arrive as tool-log events, redacted', async () => {
    const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, rules: [{ turn: 1, calls: [{ name: 'lookup', arguments: {} }] }] });
    try {
      const utterance = join(dir, 'ask.wav');
      writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
      const args = ['--json', '--url', sim.url, '--tools', chattyConfig(), '--input', utterance, '--output', join(dir, 'out.wav'), '--trailing-silence', '600000'];
      const run = await cli(args, { SMALLEST_API_KEY: KEY }, 30_000, /"type":"response\.create"/);
      expect(run.matched, run.stderr).toBe(true);
      const lines = run.stdout.split('\n').filter((line) => line !== '');
      for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
      const logs = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((event) => event.event === 'tool-log');
      expect(logs.map((event) => event.text)).toEqual(expect.arrayContaining(["looking up { key: '***' }", 'warning from the handler', 'direct to stdout', 'direct to stderr', 'config loading']));
      expect(logs.some((event) => String(event.text).includes('│'))).toBe(true); // console.table's grid
      expect(run.stdout + run.stderr).not.toContain(KEY);
    } finally {
      await sim.close();
    }
  });

  it('tools call: stdout is the output alone; the handler’s log goes to stderr', async () => {
    const run = await cli(['tools', 'call', chattyConfig(), 'lookup'], { SMALLEST_API_KEY: KEY }, 30_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('found\n');
    expect(run.stderr).toContain("looking up { key: '***' }");
    expect(run.stderr).toContain('warning from the handler');
    expect(run.stderr).toContain('direct to stdout');
    expect(run.stderr).not.toContain(KEY);
  });
});

describe('a handler that writes to the console in a scripted run', () => {
  it('run --json: stdout is the report alone; the handler’s log goes to stderr, redacted', async () => {
    const folder = join(dir, 'scenario');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'weather.tools.ts'), "export default [{ name: 'get_weather', handler: async () => { console.log('debug', process.env.SMALLEST_API_KEY); return { temp_c: 12 }; } }];\n");
    writeFileSync(
      join(folder, 'weather.yaml'),
      'name: weather\nagent:\n  tools: ./weather.tools.ts\nturns:\n  - say: How is the weather in Paris?\n    mock:\n      calls:\n        - { name: get_weather, arguments: { city: Paris } }\n',
    );
    const run = await cli(['run', join(folder, 'weather.yaml'), '--mock', '--json', '--out', join(folder, 'out')], { SMALLEST_API_KEY: KEY }, 60_000);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ scenario: 'weather', passed: true });
    expect(run.stderr).toContain('debug ***');
    expect(run.stdout + run.stderr).not.toContain(KEY);
  });
});

describe('a handler whose timer throws after its call', () => {
  it('the error names the tool on stderr (not swallowed as its log) and the run ends cleanly with exit 70', async () => {
    const file = join(dir, 'stray.tools.ts');
    writeFileSync(file, "export default [{ name: 'stray', handler: async () => { setTimeout(() => { throw new Error('boom in a timer'); }, 5); return 'found'; } }];\n");
    const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, rules: [{ turn: 1, calls: [{ name: 'stray', arguments: {} }] }] });
    try {
      const utterance = join(dir, 'stray.wav');
      writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
      const run = await cli(['--json', '--url', sim.url, '--tools', file, '--input', utterance, '--output', join(dir, 'stray-out.wav'), '--trailing-silence', '600000'], { SMALLEST_API_KEY: KEY }, 30_000);
      expect(run.code, run.stderr).toBe(70);
      expect(run.stderr).toContain('error: tool "stray" threw outside its call (in a timer or callback): boom in a timer');
      expect(run.stdout).not.toContain('"tool-log"');
      expect(run.stdout).toMatch(/"event":"end"/);
    } finally {
      await sim.close();
    }
  });
});

