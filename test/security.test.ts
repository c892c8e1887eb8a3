/**
 * The API key never leaves the process in readable form: every mode of the real CLI runs with a
 * recognisable key against the simulator, and everything it produced — stdout, stderr, every file
 * (transcripts, reports, WAVs as bytes) — is searched for the key, its URL-encoded form and any
 * fragment of it. Plus the two warnings about how the key travels.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/mock/server.js';
import { silence, tone, writeWav16k } from './fixtures/faults/harness.js';
import { cli, type Run } from './support/cli-process.js';

// The brief's key, and one whose '+' and '/' make the URL-encoded form differ from the key itself.
const PLAIN_KEY = 'sk-test-SECRET-1234567890';
const KEY = 'sk-test-SECRET+1234/567890';
const ENV = { SMALLEST_API_KEY: KEY };
// Both keys contain it: a key cut short (a truncated line, a sliced URL) still shows up.
const MARKER = 'SECRET';

let dir: string;
const simulators: Simulator[] = [];

let speak: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hydra-security-'));
  // One short utterance (0.5 s of voice, then 0.7 s of silence ends the turn): a full turn in ~1.5 s.
  const wav = join(dir, 'speech.wav');
  writeWav16k(wav, Buffer.concat([tone(500), silence(100)]));
  speak = ['--input', wav, '--trailing-silence', '700'];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});

async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, profile: 'aug-2026', ...options });
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

/** The forms of a key that must never appear: itself, URL-encoded, and the fragment both keys share. */
const forms = (key: string): string[] => [key, encodeURIComponent(key), MARKER];

/** Fails naming where the key (or its encoded form, or a piece of it) showed up. */
function expectNoKey(run: Run, folder?: string, key = KEY): void {
  for (const [where, text] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) {
    for (const form of forms(key)) expect(text.includes(form), `${form} in ${where}:\n${text}`).toBe(false);
  }
  if (folder === undefined) return;
  const produced = files(folder);
  expect(produced.length).toBeGreaterThan(0);
  for (const path of produced) {
    const bytes = readFileSync(path);
    for (const form of forms(key)) expect(bytes.includes(form), `${form} in ${path}`).toBe(false);
  }
}

function folder(name: string): string {
  return mkdtempSync(join(dir, `${name}-`));
}

describe('the API key never shows', () => {
  it('the check itself finds the key, its encoded form and a fragment', () => {
    for (const leak of [KEY, encodeURIComponent(KEY), 'Bearer sk-test-SECRET+12', PLAIN_KEY]) {
      expect(() => expectNoKey({ code: 0, stdout: `x ${leak} y`, stderr: '' })).toThrow();
      expect(() => expectNoKey({ code: 0, stdout: '', stderr: `x ${leak} y` })).toThrow();
    }
    // (Outside the test folder, which the last test searches whole.)
    const out = mkdtempSync(join(tmpdir(), 'hydra-security-self-check-'));
    try {
      writeFileSync(join(out, 'a.wav'), Buffer.concat([Buffer.alloc(100), Buffer.from(encodeURIComponent(KEY)), Buffer.alloc(100)]));
      expect(() => expectNoKey({ code: 0, stdout: '', stderr: '' }, out)).toThrow();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  for (const [label, key] of [['the key sk-test-SECRET-1234567890', PLAIN_KEY], ['a key with + and /', KEY]] as const) {
    it(`in a plain run, --json, --verbose, --record and --output (${label})`, async () => {
      const sim = await simulator();
      const out = folder('modes');
      const env = { SMALLEST_API_KEY: key };
      const runs = await Promise.all([
        cli(['--url', sim.url, ...speak, '--output', join(out, 'plain.wav')], env),
        cli(['--json', '--url', sim.url, ...speak, '--output', join(out, 'json.wav')], env),
        cli(['--verbose', '--url', sim.url, ...speak, '--output', join(out, 'verbose.wav'), '--record', join(out, 'record.wav')], env),
      ]);
      for (const run of runs) {
        expect(run.code, run.stderr).toBe(0);
        expectNoKey(run, out, key);
      }
      // The runs did talk: the reply was written, --json shows the frames, --verbose the frame types.
      for (const name of ['plain.wav', 'json.wav', 'verbose.wav', 'record.wav']) expect(statSync(join(out, name)).size).toBeGreaterThan(10_000);
      expect(runs[1]!.stdout).toMatch(/"type":"session\.configure"/);
      expect(runs[1]!.stdout).toMatch(/"type":"response\.done"/);
      expect(runs[2]!.stdout + runs[2]!.stderr).toMatch(/session\.configured/);
    });
  }

  it('in scenario run folders (transcript.jsonl, report.json, report.md, conversation.wav): --url, and --mock with tool calls', async () => {
    const sim = await simulator();
    const out = folder('scenario');
    const [viaUrl, viaMock] = await Promise.all([
      cli(['run', 'examples/greeting.yaml', '--url', sim.url, '--out', join(out, 'url')], ENV, 60_000),
      cli(['run', 'examples/tools.yaml', '--mock', '--out', join(out, 'mock')], ENV, 60_000),
    ]);
    for (const run of [viaUrl, viaMock]) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expectNoKey(run);
    }
    const produced = files(out).map((path) => path.slice(out.length + 1));
    for (const name of ['url', 'mock']) {
      expect(produced).toEqual(expect.arrayContaining([`${name}/transcript.jsonl`, `${name}/report.json`, `${name}/report.md`, `${name}/conversation.wav`]));
    }
    expect(readFileSync(join(out, 'mock', 'transcript.jsonl'), 'utf8')).toMatch(/lookup_order/);
    expectNoKey(viaUrl, out);
  }, 60_000);

  it('in scenario run files and --json when the server echoes the key, and with a key in --url\'s query', async () => {
    const sim = await simulator();
    // A server that repeats the key in an error message, as it is and URL-encoded.
    sim.on('server-frame', (sessionId, frame) => {
      if (frame.type !== 'session.configured') return;
      const message = `key ${KEY} / ${encodeURIComponent(KEY)} is not valid here`;
      sim.inject({ raw: JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', code: 'echoed_key', message } }) }, sessionId);
    });
    const out = folder('echoed');
    const [plain, json, chat] = await Promise.all([
      cli(['run', 'examples/greeting.yaml', '--url', `${sim.url}?api_key=${encodeURIComponent(KEY)}`, '--out', join(out, 'plain')], ENV, 60_000),
      cli(['run', 'examples/greeting.yaml', '--json', '--url', sim.url, '--out', join(out, 'json')], ENV, 60_000),
      cli(['--json', '--url', sim.url, ...speak, '--output', join(out, 'chat.wav')], ENV),
    ]);
    // The run heard the server: its error frame fails the scenario's noErrors, and is reported redacted.
    for (const run of [plain, json]) {
      expect(run.code, run.stderr).toBe(17);
      expect(run.stdout + run.stderr).toMatch(/echoed_key \(key \*\*\* \/ \*\*\* is not valid here\)/);
    }
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toContain('key *** / *** is not valid here');
    for (const run of [plain, json, chat]) expectNoKey(run, out);
    for (const name of ['plain', 'json']) {
      const report = JSON.parse(readFileSync(join(out, name, 'report.json'), 'utf8')) as { url: string };
      if (name === 'plain') expect(report.url).toMatch(/\?api_key=\*\*\*$/);
      expect(readFileSync(join(out, name, 'report.md'), 'utf8')).toMatch(/key \*\*\* \/ \*\*\* is not valid here/);
      for (const line of readFileSync(join(out, name, 'transcript.jsonl'), 'utf8').trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(JSON.parse(json.stdout)).toMatchObject({ passed: false });
  }, 60_000);

  it('where a long server or tool string is cut for the screen: the cut never leaves a readable piece of the key', async () => {
    // Each string puts the key across the point where the screen cuts it (a 500-character field, a tool's
    // arguments at 100 and its output at 120, a server id at 60), so a cut before redaction shows a prefix.
    const pad = (n: number) => 'y'.repeat(n);
    const sim = await simulator({ rules: [{ turn: 1, calls: [{ name: 'echo', arguments: { text: `${pad(78)}${KEY}` } }] }] });
    sim.on('server-frame', (sessionId, frame) => {
      if (frame.type !== 'session.configured') return;
      sim.inject({ raw: JSON.stringify({ type: 'error', error: { type: 'server_error', code: 'x', message: `${pad(470)}${KEY}` } }) }, sessionId);
      const delta = { type: 'response.output_audio.delta', event_id: 'sv_x', response_id: `${pad(50)}${KEY}`, item_id: 'i', output_index: 0, content_index: 0, delta: 'AAAA' };
      sim.inject({ raw: JSON.stringify(delta) }, sessionId);
    });
    const tools = join(dir, 'echo.tools.ts');
    writeFileSync(
      tools,
      "export default { tools: [{ name: 'echo', parameters: { type: 'object', properties: { text: { type: 'string' } } }, handler: (args: { text: string }) => args.text }] };\n",
    );
    const [plain, json] = await Promise.all([
      cli(['--url', sim.url, '--tools', tools, ...speak, '--output', join(dir, 'cut.wav')], ENV),
      cli(['--json', '--url', sim.url, '--tools', tools, ...speak, '--output', join(dir, 'cut-json.wav')], ENV),
    ]);
    for (const run of [plain, json]) {
      expect(run.code, run.stderr).toBe(0);
      expectNoKey(run);
    }
    // The cut strings were shown: the error, the call, its result and the stray audio's response id.
    expect(plain.stdout).toMatch(/server error: y+\*\*\*/);
    expect(plain.stdout).toMatch(/tool echo\(\{"text":"y+\*\*\*"\}\)/);
    expect(plain.stdout).toMatch(/tool echo ✓ \d+ ms → y+\*\*\*/);
    expect(plain.stdout + plain.stderr).toMatch(/audio for response y+\*\*\*, which never started/);
    expect(json.stdout).toMatch(/audio for response y+\*\*\*, which never started/);
  });

  it('in errors: a rejected key (401), a refused connection, a crash in tool code that prints the key', async () => {
    const rejecting = await simulator({ faults: { rejectStatus: { status: 401 } } });
    const refusedUrl = 'ws://127.0.0.1:9/waves/v1/s2s';
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
    const [rejected, rejectedJson, refused, refusedVerbose, crashed] = await Promise.all([
      cli(['--url', rejecting.url, ...speak, '--output', join(dir, 'r.wav')], ENV),
      cli(['--json', '--verbose', '--url', rejecting.url, ...speak, '--output', join(dir, 'rj.wav')], ENV),
      cli(['--json', '--url', refusedUrl, ...speak, '--output', join(dir, 'x.wav')], ENV),
      cli(['--verbose', '--url', refusedUrl, ...speak, '--output', join(dir, 'xv.wav')], ENV),
      cli(['--url', sim.url, '--tools', tools, ...speak, '--output', join(dir, 'leaky.wav')], ENV),
    ]);
    for (const run of [rejected, rejectedJson]) {
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toMatch(/API key rejected/);
      expectNoKey(run);
    }
    expect(rejectedJson.stdout).toContain('"code":"auth-rejected"');
    for (const run of [refused, refusedVerbose]) {
      expect(run.code, run.stderr).toBe(9);
      expect(run.stderr).toMatch(/connection refused by ws:\/\/127\.0\.0\.1:9/);
      expectNoKey(run);
    }
    expect(crashed.code).toBe(70);
    expect(crashed.stdout + crashed.stderr).toMatch(/handler \*\*\*/);
    expect(crashed.stderr).toMatch(/tool "leaky" threw outside its call \(in a timer or callback\): stray \*\*\*/);
    expectNoKey(crashed);
  });

  it('a password in --url (ws://user:password@host) is never shown: header, --json, errors, --verbose', async () => {
    const password = 'pw-0f9e8d7c6b5a';
    const url = `ws://agent:${password}@127.0.0.1:9/waves/v1/s2s`;
    const runs = await Promise.all([
      cli(['--url', url, ...speak, '--output', join(dir, 'pw.wav')], ENV),
      cli(['--json', '--verbose', '--url', url, ...speak, '--output', join(dir, 'pwj.wav')], ENV),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(9);
      expect(run.stdout + run.stderr).toContain('ws://agent:***@127.0.0.1:9');
      expect(run.stdout + run.stderr).not.toContain(password);
    }
  });

  it('under a misspelt flag (--api-kee=…, --apikey=…): the usage error names the option, not its value', async () => {
    const runs = await Promise.all([
      cli([`--api-kee=${KEY}`, '--mock']),
      cli(['run', 'examples/greeting.yaml', `--apikey=${PLAIN_KEY}`]),
      cli(['doctor', `--api_key=${PLAIN_KEY}`]),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: unknown option '--api(-kee|key|_key)=…'/m);
      expectNoKey(run, undefined, KEY);
      expectNoKey(run, undefined, PLAIN_KEY);
    }
  });

  it('a --url password that is not valid percent-encoding (pw%zz) is redacted, not a crash', async () => {
    const run = await cli(['--url', 'ws://agent:pw-SECRET%zz@127.0.0.1:9/waves/v1/s2s', ...speak, '--output', join(dir, 'pct.wav')], ENV);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code, run.stderr).toBe(9);
    expect(run.stdout + run.stderr).toContain('ws://agent:***@127.0.0.1:9');
    expectNoKey(run);
  });

  it('a key in --url or the user file\'s url under a percent-encoded name (api%5Fkey=) is never shown', async () => {
    const inQuery = 'ws://127.0.0.1:9/waves/v1/s2s?api%5Fkey=url-SECRET-0f9e8d';
    // The user file lives outside the test folder, whose files the last test searches for the marker.
    const xdg = mkdtempSync(join(tmpdir(), 'hydra-security-xdg-'));
    try {
      mkdirSync(join(xdg, 'hydra-chat'));
      writeFileSync(join(xdg, 'hydra-chat', 'config.json'), JSON.stringify({ url: inQuery }));
      const runs = await Promise.all([
        cli(['--url', inQuery, ...speak, '--output', join(dir, 'q.wav')], ENV),
        cli(['--json', '--verbose', `--url=${inQuery}`, ...speak, '--output', join(dir, 'qj.wav')], ENV),
        cli([...speak, '--output', join(dir, 'qf.wav')], { ...ENV, XDG_CONFIG_HOME: xdg }),
        cli(['doctor', '--no-audio', '--url', inQuery], ENV),
      ]);
      for (const run of runs) expectNoKey(run);
      // The chats show the url (the doctor only its host).
      for (const run of runs.slice(0, 3)) expect(run.stdout + run.stderr).toContain('ws://127.0.0.1:9/waves/v1/s2s?api%5Fkey=***');
    } finally {
      rmSync(xdg, { recursive: true, force: true });
    }
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

const FLAG_WARNING = /warning: --api-key is visible to other users in the process list; prefer the SMALLEST_API_KEY environment variable/;

describe('warnings about how the key travels', () => {
  it('--api-key on the command line (both spellings, chat and run): warned, SMALLEST_API_KEY recommended, key not shown', async () => {
    const sim = await simulator();
    const runs = await Promise.all([
      cli(['--url', sim.url, '--api-key', KEY, ...speak, '--output', join(dir, 'flag.wav')]),
      cli(['--url', sim.url, `--api-key=${KEY}`, ...speak, '--output', join(dir, 'flag-eq.wav')]),
      // `run` warns too; stopped once it has.
      cli(['run', 'examples/greeting.yaml', '--url', sim.url, '--api-key', KEY, '--out', join(dir, 'flag-run')], {}, 20_000, FLAG_WARNING),
    ]);
    for (const run of runs.slice(0, 2)) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout + run.stderr).toMatch(FLAG_WARNING);
      expectNoKey(run);
    }
    expect(runs[2]!.matched, runs[2]!.stdout + runs[2]!.stderr).toBe(true);
    expectNoKey(runs[2]!);
  });

  it('--json and --quiet still warn, on stderr, and stdout stays pure NDJSON', async () => {
    const sim = await simulator();
    const [json, quiet] = await Promise.all([
      cli(['--json', '--url', sim.url, '--api-key', KEY, ...speak, '--output', join(dir, 'flag-json.wav')]),
      cli(['--quiet', '--url', sim.url, '--api-key', KEY, ...speak, '--output', join(dir, 'flag-quiet.wav')]),
    ]);
    for (const run of [json, quiet]) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(FLAG_WARNING);
      expect(run.stdout).not.toMatch(FLAG_WARNING);
      expectNoKey(run);
    }
    for (const line of json.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(quiet.stdout).toBe('');
  });

  // A non-loopback address of this machine (plain ws:// there would carry the key unencrypted); without
  // one, an unroutable address: the warning is printed before connecting, and the run is stopped then.
  const external =
    Object.values(networkInterfaces())
      .flat()
      .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal)?.address ?? '10.255.255.1';

  it(`a key over plain ws:// to a non-loopback host (${external}): warned before connecting`, async () => {
    const warning = new RegExp(`warning: ${external.replace(/\./g, '\\.')}:9 is reached over plain ws://, so the API key travels unencrypted; use wss://`);
    const run = await cli(['--url', `ws://${external}:9/waves/v1/s2s`, '--max-retries', '0', ...speak, '--output', join(dir, 'plain-ws.wav')], ENV, 20_000, warning);
    expect(run.matched, run.stdout + run.stderr).toBe(true);
    // Before anything else: the first line of the output.
    expect(run.stdout.split('\n')[0]).toMatch(warning);
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

describe('everything the runs above wrote', () => {
  it('no file under the test folder (recordings, outputs, run folders) holds either key or a piece of one', () => {
    const produced = files(dir).filter((path) => path.endsWith('.wav') || path.endsWith('.jsonl') || path.endsWith('.json') || path.endsWith('.md'));
    // Every mode above left something here: the outputs and recordings of the chats, the run folders.
    expect(produced.filter((path) => path.endsWith('.wav')).length).toBeGreaterThanOrEqual(15);
    for (const path of produced) {
      const bytes = readFileSync(path);
      for (const form of [...forms(KEY), ...forms(PLAIN_KEY)]) expect(bytes.includes(form), `${form} in ${path}`).toBe(false);
    }
  });
});
