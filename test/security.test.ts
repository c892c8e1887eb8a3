/**
 * The API key never leaves the process in readable form: every mode of the real CLI runs with a
 * recognisable key against the simulator, and everything it produced — stdout, stderr, every file
 * (transcripts, reports, WAVs as bytes) — is searched for the key and its URL-encoded form. Plus the
 * two warnings about how the key travels.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/mock/server.js';
import { cli, type Run } from './support/cli-process.js';

// '+' and '/' make the URL-encoded form differ from the key itself.
const KEY = 'sk-test-SECRET+1234/567890';
const ENCODED = encodeURIComponent(KEY);
const ENV = { SMALLEST_API_KEY: KEY };

let dir: string;
const simulators: Simulator[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hydra-security-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});

async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, ...options });
  simulators.push(sim);
  return sim;
}

/** Every file under `root`, recursively. */
function files(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** Fails naming where the key (or its encoded form) showed up. */
function expectNoKey(run: Run, folder?: string): void {
  for (const [where, text] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) {
    expect(text.includes(KEY), `the key in ${where}:\n${text}`).toBe(false);
    expect(text.includes(ENCODED), `the encoded key in ${where}:\n${text}`).toBe(false);
  }
  if (folder === undefined) return;
  const produced = files(folder);
  expect(produced.length).toBeGreaterThan(0);
  for (const path of produced) {
    const bytes = readFileSync(path);
    expect(bytes.includes(KEY), `the key in ${path}`).toBe(false);
    expect(bytes.includes(ENCODED), `the encoded key in ${path}`).toBe(false);
  }
}

function folder(name: string): string {
  return mkdtempSync(join(dir, `${name}-`));
}

const speak = ['--input', 'test/fixtures/hello-16k.wav', '--trailing-silence', '800'];

describe('the API key never shows', () => {
  it('in a plain run, --json, --verbose, --record and --output', async () => {
    const sim = await simulator();
    const out = folder('modes');
    const runs = await Promise.all([
      cli(['--url', sim.url, ...speak, '--output', join(out, 'plain.wav')], ENV),
      cli(['--json', '--url', sim.url, ...speak, '--output', join(out, 'json.wav')], ENV),
      cli(['--verbose', '--url', sim.url, ...speak, '--output', join(out, 'verbose.wav'), '--record', join(out, 'record.wav')], ENV),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expectNoKey(run, out);
    }
    // The runs did talk: --json shows the connection, with the key's place in the URL redacted.
    expect(runs[1]!.stdout).toMatch(/"type":"session\.configure"/);
    expect(runs[2]!.stdout + runs[2]!.stderr).toMatch(/session\.configured/);
  });

  it('in a scenario run folder (transcript.jsonl, report.json, report.md, conversation.wav)', async () => {
    const sim = await simulator();
    const out = folder('scenario');
    const run = await cli(['run', 'examples/greeting.yaml', '--url', sim.url, '--out', join(out, 'run')], ENV, 60_000);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const produced = files(out).map((path) => path.slice(out.length + 1));
    expect(produced).toEqual(expect.arrayContaining(['run/transcript.jsonl', 'run/report.json', 'run/report.md', 'run/conversation.wav']));
    expectNoKey(run, out);
  }, 60_000);

  it('in errors: a rejected key (401), a refused connection, a crash in tool code that prints the key', async () => {
    const rejecting = await simulator({ faults: { rejectStatus: { status: 401 } } });
    const rejected = await cli(['--url', rejecting.url, ...speak, '--output', join(dir, 'r.wav')], ENV);
    expect(rejected.code).toBe(4);
    expect(rejected.stderr).toMatch(/API key rejected/);
    expectNoKey(rejected);

    const refused = await cli(['--json', '--url', 'ws://127.0.0.1:9/waves/v1/s2s', ...speak, '--output', join(dir, 'x.wav')], ENV);
    expect(refused.code).toBe(9);
    expectNoKey(refused);

    // Tool code that leaks the key: in its error, and in an error nothing catches.
    const sim = await simulator({ rules: [{ turn: 1, calls: [{ name: 'leaky', arguments: {} }] }] });
    const tools = join(dir, 'leaky.tools.ts');
    writeFileSync(
      tools,
      [
        "export default { tools: [{ name: 'leaky', parameters: { type: 'object', properties: {} },",
        '  handler: () => { setTimeout(() => { throw new Error(`stray ${process.env.SMALLEST_API_KEY}`); }, 50);',
        '    throw new Error(`handler ${process.env.SMALLEST_API_KEY}`); } }] };',
        '',
      ].join('\n'),
    );
    const crashed = await cli(['--url', sim.url, '--tools', tools, ...speak, '--output', join(dir, 'leaky.wav')], ENV);
    expect(crashed.code).toBe(70);
    expect(crashed.stdout + crashed.stderr).toMatch(/handler \*\*\*/);
    expect(crashed.stderr).toMatch(/internal error: stray \*\*\*/);
    expectNoKey(crashed);
  });

  it('in `tools call`: command tools do not get the key in their environment, and a tool printing it is redacted', async () => {
    const tools = join(dir, 'echo-env.json');
    writeFileSync(
      tools,
      JSON.stringify({
        tools: [
          { name: 'env', parameters: { type: 'object', properties: {} }, command: [process.execPath, '-e', 'process.stdout.write(process.env.SMALLEST_API_KEY ?? "no key here")'] },
          { name: 'echo', parameters: { type: 'object', properties: { text: { type: 'string' } } }, command: [process.execPath, '-e', 'process.stdin.pipe(process.stdout)'] },
        ],
      }),
    );
    const env = await cli(['tools', 'call', tools, 'env', '{}'], ENV);
    expect(env.code).toBe(0);
    expect(env.stdout).toContain('no key here');
    expectNoKey(env);
    const echo = await cli(['tools', 'call', tools, 'echo', JSON.stringify({ text: KEY })], ENV);
    expect(echo.code).toBe(0);
    expect(echo.stdout).toContain('***');
    expectNoKey(echo);
  });
});

describe('warnings about how the key travels', () => {
  it('--api-key on the command line: warned (visible in the process list), SMALLEST_API_KEY recommended, key not shown', async () => {
    const sim = await simulator();
    const run = await cli(['--url', sim.url, '--api-key', KEY, ...speak, '--output', join(dir, 'flag.wav')]);
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/--api-key is visible to other users in the process list; prefer the SMALLEST_API_KEY/);
    expectNoKey(run);
  });

  // A non-loopback address of this machine: plain ws:// there would carry the key unencrypted.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal)?.address;

  it.skipIf(external === undefined)('a key over plain ws:// to a non-loopback host: warned before connecting', async () => {
    const run = await cli(['--url', `ws://${external}:9/waves/v1/s2s`, ...speak, '--output', join(dir, 'plain-ws.wav')], ENV);
    expect(run.stdout + run.stderr).toMatch(new RegExp(`warning: ${external!.replace(/\./g, '\\.')}:9 is reached over plain ws://, so the API key travels unencrypted; use wss://`));
    expectNoKey(run);
  });

  it('no such warning for loopback or --mock', async () => {
    const sim = await simulator();
    const [local, mock] = await Promise.all([
      cli(['--url', sim.url, ...speak, '--output', join(dir, 'local.wav')], ENV),
      cli(['--mock', ...speak, '--output', join(dir, 'mock.wav')], ENV),
    ]);
    for (const run of [local, mock]) {
      expect(run.code).toBe(0);
      expect(run.stdout + run.stderr).not.toMatch(/plain ws:\/\//);
      expectNoKey(run);
    }
  });
});
