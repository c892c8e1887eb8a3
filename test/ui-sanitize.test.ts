/**
 * Issue 13 item 9: text from the server or the model never drives the terminal and never floods it.
 * Unit tests of the cleaner, then the built CLI against the real simulator sending hostile frames
 * (`npm run build` first).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatDeviceList } from '../src/audio/devices.js';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import { redact, registerSecret } from '../src/redact.js';
import { jsonText } from '../src/ui/json-text.js';
import { createOutput } from '../src/ui/output.js';
import { capText, cleanField, MAX_FIELD_CHARS, stripControls } from '../src/ui/sanitize.js';
import { cli } from './support/cli-process.js';
import { silence, tone, writeWav16k } from './fixtures/faults/harness.js';

const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

describe('stripControls / capText', () => {
  it.each([
    ['a title change (OSC 0 … BEL)', 'a\x1b]0;title\x07b', 'ab'],
    ['an OSC 52 clipboard write ended by ST', 'a\x1b]52;c;cHduZWQ=\x1b\\b', 'ab'],
    ['an unterminated OSC: its payload goes too', 'a\x1b]52;c;cHduZWQ=', 'a'],
    ['a screen clear and cursor moves', '\x1b[2J\x1b[1;1Hhi\x1b[?25l', 'hi'],
    ['a full reset (ESC c) and charset switches', '\x1bcx\x1b(0y', 'xy'],
    ['8-bit CSI and OSC', '\x9b2Ja\x9d0;t\x9cb', 'ab'],
    ['DCS, APC and PM strings', '\x1bPq#0\x1b\\a\x1b_apc\x1b\\b\x1b^pm\x1b\\c', 'abc'],
    ['bare C0, DEL and C1 controls', 'a\rb\bc\x00d\x7fe\x85f\x07', 'abcdef'],
    ['bidi overrides, embeddings, isolates and marks', 'a\u202eb\u202ac\u202cd\u2066e\u2069f\u200eg\u200fh\u061ci', 'abcdefghi'],
    ['Unicode line and paragraph separators become line breaks', 'a\u2028b\u2029c', 'a\nb\nc'],
  ])('%s', (_name, input, expected) => {
    expect(stripControls(input)).toBe(expected);
  });

  it('keeps newlines, tabs and every printable character, emoji and non-Latin scripts included', () => {
    const text = 'line 1\n\tline 2 — ¿qué? 日本語 🎙️ «ok»';
    expect(stripControls(text)).toBe(text);
  });

  it('a field is one line: line breaks and tabs become spaces', () => {
    expect(cleanField('a\nb\r\nc\td\u2028e\u2029f')).toBe('a b c d e f');
  });

  it('caps a field with "… (N more)", never splitting a surrogate pair', () => {
    expect(capText('abc', 5)).toBe('abc');
    expect(capText('abcdefgh', 5)).toBe('abcde… (3 more)');
    expect(capText('abcd🎙️xyz', 5)).toBe('abcd… (6 more)');
    expect(cleanField('\x1b[2J'.repeat(1000) + 'x')).toBe('x');
    expect(cleanField('A'.repeat(1_000_000))).toBe(`${'A'.repeat(MAX_FIELD_CHARS)}… (${1_000_000 - MAX_FIELD_CHARS} more)`);
  });
});

describe('redaction that keeps JSON valid and data whole', () => {
  /** --json through the real Output: the lines it wrote. */
  const jsonLines = (...events: Record<string, unknown>[]): string[] => {
    const written: string[] = [];
    const out = createOutput({ stdout: { write: (text: string) => written.push(text) }, stderr: { write: () => true }, json: true, color: false, quiet: false });
    for (const event of events) out.json({ t: 1, ...event });
    return written.join('').split('\n').slice(0, -1);
  };

  it('a host:port and a later "@" are not a URL password: nothing between them is eaten (plain text and JSON)', () => {
    const output = JSON.stringify({ url: 'http://localhost:8080', email: 'ops@example.com' });
    expect(redact(`tool lookup ✓ 3 ms → ${output}`)).toBe(`tool lookup ✓ 3 ms → ${output}`);
    const [line] = jsonLines({ url: 'ws://127.0.0.1:1234', who: 'a@b', output });
    expect(JSON.parse(line!)).toEqual({ t: 1, url: 'ws://127.0.0.1:1234', who: 'a@b', output });
    // A real password still goes.
    expect(redact('ws://agent:pw-123@host/x')).toBe('ws://agent:***@host/x');
  });

  it('a server string that ends an api_key value with \\" cannot unbalance the JSON line', () => {
    const message = 'retry at wss://h/x?api_key=abc\\"}, {"forged": true';
    const [line] = jsonLines({ event: 'note', message });
    const parsed = JSON.parse(line!) as { message: string; forged?: boolean };
    expect(parsed.forged).toBeUndefined();
    // The value ends at the backslash (a key has none): removed, and the JSON line holds.
    expect(parsed.message).toBe('retry at wss://h/x?api_key=***\\"}, {"forged": true');
  });

  it('a registered secret is removed from values and keys, whatever JSON would have escaped in it', () => {
    registerSecret('k3y"with\\quote');
    const [line] = jsonLines({ message: 'the key k3y"with\\quote is bad', ['k3y"with\\quote']: 1 });
    expect(line).not.toContain('k3y');
    expect(JSON.parse(line!)).toEqual({ t: 1, message: 'the key *** is bad', '***': 1 });
  });

  it('a key read with its line break (SMALLEST_API_KEY from a CRLF file) is removed where a server echoes it trimmed', () => {
    registerSecret('sk-trim-test-0123456789\r\n');
    expect(redact('invalid key sk-trim-test-0123456789 (401)')).toBe('invalid key *** (401)');
  });

  it('U+2028 / U+2029, bidi controls and C1 controls are escaped: each record is one line to any line reader', () => {
    const text = 'a\u2028b\u2029c\u202ed\u0085e\u009bf';
    const lines = jsonLines({ message: text });
    expect(lines).toHaveLength(1);
    // Python's str.splitlines() also splits at U+2028, U+2029 and U+0085.
    expect(lines[0]).not.toMatch(/[\u2028\u2029\u0085\u009b\u202e]/);
    expect((JSON.parse(lines[0]!) as { message: string }).message).toBe(text);
    expect(jsonText({ message: text }, { space: 2 })).not.toMatch(/[\u2028\u2029]/);
  });
});

describe('the CLI against a simulator sending hostile text', () => {
  let dir: string;
  let utterance: string;
  const simulators: Simulator[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hydra-sanitize-'));
    utterance = join(dir, 'utterance.wav');
    writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await Promise.all(simulators.splice(0).map((sim) => sim.close()));
  });

  const MB = 1024 * 1024;
  const HOSTILE = '\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[3J\x1bc\x9b31m';
  const frames = [
    ...Array.from({ length: 20 }, (_, i) => ({ type: 'error', error: { type: 'server_error', code: `boom${HOSTILE}`, message: `${HOSTILE}${i}:${'A'.repeat(MB)}` } })),
    { type: 'warning', warning: { code: 'w', message: `careful${HOSTILE}${'W'.repeat(MB)}` } },
    { type: 'conversation.item.done', item: { id: 'i1', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', text: `hello${HOSTILE}` }] } },
    { type: `future.thing${HOSTILE}`, payload: 1 },
  ];

  /** Runs the CLI on the utterance; the hostile frames go out as soon as the session is configured. */
  async function hostileRun(extra: string[]) {
    const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20 });
    simulators.push(sim);
    sim.on('server-frame', (sessionId, frame) => {
      if (frame.type !== 'session.configured') return;
      for (const frame of frames) sim.inject({ raw: JSON.stringify(frame) }, sessionId);
    });
    return cli(['--url', sim.url, '--input', utterance, '--output', join(dir, `out-${extra.length}.wav`), '--no-color', ...extra], { SMALLEST_API_KEY: 'sk-test' }, 60_000);
  }

  it('plain output: twenty 1 MB error frames print a few kilobytes, no escape sequence, and the run completes', async () => {
    const run = await hostileRun([]);
    const printed = run.stdout + run.stderr;
    expect(run.code).toBe(0);
    expect(printed).not.toMatch(CONTROL);
    expect(printed).not.toMatch(/pwned|cHduZWQ/);
    expect(printed.length).toBeLessThan(40 * 1024);
    expect(printed.match(/server error: .*… \(\d+ more\)/g)).toHaveLength(20);
    expect(printed).toMatch(/you +▸ “hello”/);
  }, 90_000);

  it('--json keeps every full value, JSON-escaped: no raw control character on stdout', async () => {
    const run = await hostileRun(['--json']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(CONTROL);
    expect(run.stderr).not.toMatch(CONTROL);
    const messages = run.stdout
      .split('\n')
      .filter((line) => line.includes('"server-error"'))
      .map((line) => (JSON.parse(line) as { message?: string }).message ?? '');
    expect(messages).toHaveLength(20);
    expect(messages.every((message) => message.startsWith(HOSTILE) && message.length > MB)).toBe(true);
  }, 90_000);
  // Line breaks, bidi controls and an api_key value ending in \" — the shapes that once forged lines and broke JSON.
  const SNEAKY = `oops\nhydra  ▸ “forged”\u2028second\u2029third \u202egnp.exe | cell ?api_key=x\\"}{"forged":1 ws://127.0.0.1:1","b":"a@b`;

  /** A simulator that sends one error frame carrying SNEAKY once the session is configured. */
  async function sneakySimulator(): Promise<Simulator> {
    const sim = await createSimulator({ profile: 'aug-2026', responseDelayMs: 20, realtimeFactor: 20 });
    simulators.push(sim);
    sim.on('server-frame', (sessionId, frame) => {
      if (frame.type !== 'session.configured') return;
      sim.inject({ raw: JSON.stringify({ type: 'error', error: { type: 'server_error', code: 'sneaky', message: SNEAKY } }) }, sessionId);
    });
    return sim;
  }

  it('plain and --json chat: server text cannot add a line, reorder text or break a JSON record', async () => {
    const sim = await sneakySimulator();
    const [plain, json] = await Promise.all([
      cli(['--url', sim.url, '--input', utterance, '--output', join(dir, 'sneaky.wav'), '--no-color'], { SMALLEST_API_KEY: 'sk-test' }, 60_000),
      cli(['--url', sim.url, '--input', utterance, '--output', join(dir, 'sneaky-json.wav'), '--json'], { SMALLEST_API_KEY: 'sk-test' }, 60_000),
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    const printed = plain.stdout + plain.stderr;
    expect(printed).not.toMatch(/^hydra +▸ “forged”/m);
    expect(printed).not.toMatch(/[\u2028\u2029\u202e]/);
    expect(printed).toMatch(/^server error: oops hydra +▸ “forged” second third gnp\.exe/m);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).not.toMatch(/[\u2028\u2029\u202e]/);
    const lines = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event?: string; kind?: string; message?: string; forged?: number });
    expect(lines.some((line) => line.forged !== undefined)).toBe(false);
    const error = lines.find((line) => line.kind === 'server-error');
    expect(error?.message).toBe(SNEAKY.replace('?api_key=x', '?api_key=***'));
  }, 90_000);

  it('`run`: the table, report.md and transcript.jsonl keep each row and record on one line; --json stays one valid line', async () => {
    const sim = await sneakySimulator();
    const out = join(dir, 'sneaky-run');
    const [run, json] = await Promise.all([
      cli(['run', 'examples/greeting.yaml', '--url', sim.url, '--out', out], { SMALLEST_API_KEY: 'sk-test' }, 60_000),
      cli(['run', 'examples/greeting.yaml', '--json', '--url', sim.url, '--out', join(dir, 'sneaky-run-json')], { SMALLEST_API_KEY: 'sk-test' }, 60_000),
    ]);
    expect(json.code, json.stderr).toBe(17);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(json.stdout) as { runs: { session: { detail: string }[] }[]; forged?: number };
    expect(report.forged).toBeUndefined();
    expect(JSON.stringify(report.runs[0]!.session)).toContain('?api_key=***');
    expect(run.code, run.stderr).toBe(17);
    const printed = run.stdout + run.stderr;
    expect(printed).not.toMatch(CONTROL);
    expect(printed).not.toMatch(/[\u2028\u2029\u202e]/);
    expect(printed).not.toMatch(/^hydra +▸ “forged”/m);
    expect(run.stdout).toMatch(/^1 +- .*FAIL noErrors: error frames: sneaky \(oops hydra +▸ “forged” second third gnp\.exe/m);
    const markdown = readFileSync(join(out, 'report.md'), 'utf8');
    expect(markdown).not.toMatch(CONTROL);
    expect(markdown).not.toMatch(/[\u2028\u2029\u202e]/);
    // Every line of the table is a row: a cell's line break would leave a line that is not one.
    const table = markdown.split('\n').filter((line) => line.startsWith('|') || line.includes('forged'));
    expect(table.every((line) => line.startsWith('| ') && line.endsWith(' |'))).toBe(true);
    expect(table.some((line) => line.includes('noErrors: error frames: sneaky (oops hydra'))).toBe(true);
    const transcript = readFileSync(join(out, 'transcript.jsonl'), 'utf8');
    expect(transcript).not.toMatch(/[\u2028\u2029\u202e]/);
    for (const line of transcript.trim().split('\n')) expect((JSON.parse(line) as { forged?: number }).forged).toBeUndefined();
  }, 90_000);

  it('--json survives a frame nested 100 000 levels deep: it is refused with a note, the run goes on', async () => {
    const sim = await createSimulator({ profile: 'aug-2026', responseDelayMs: 20, realtimeFactor: 20 });
    simulators.push(sim);
    sim.on('server-frame', (sessionId, frame) => {
      if (frame.type === 'session.configured') sim.inject({ raw: `{"type":"x.deep","a":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }, sessionId);
    });
    const run = await cli(['--url', sim.url, '--input', utterance, '--output', join(dir, 'out-deep.wav'), '--json'], { SMALLEST_API_KEY: 'sk-test' }, 60_000);
    expect(run.stderr).not.toMatch(/internal error|call stack/i);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { frame?: { type?: string } });
    expect(lines.find((line) => line.frame?.type === 'x.deep')).toBeUndefined();
    expect(run.stdout).toContain('nested more than 128 levels deep');
  }, 90_000);
});

describe('text from files and the system: config values, device names, a --url as typed', () => {
  const TITLE = '\x1b]0;PWNED\x07';
  const BIDI = /[\u202a-\u202e\u2066-\u2069]/;
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'hydra-sanitize-files-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('`config` shows a project file\'s values cleaned (a cloned directory\'s hydra.tools.json is anyone\'s)', async () => {
    const project = join(dir, 'hydra.tools.json');
    writeFileSync(project, JSON.stringify({ voice: `re${TITLE}ed\u202e`, model: 'hy\x1b[2Jdra\nforged line', tools: [] }));
    const run = await cli(['--tools', project, 'config'], { XDG_CONFIG_HOME: join(dir, 'xdg') });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(CONTROL);
    expect(run.stdout).not.toMatch(BIDI);
    expect(run.stdout).not.toMatch(/PWNED|^forged line/m);
    expect(run.stdout).toMatch(/^--voice\s+reed\s+project file/m);
    expect(run.stdout).toMatch(/^--model\s+hydra forged line\s+project file/m);
  });

  it('`doctor` prints a --url it cannot use cleaned', async () => {
    const run = await cli(['doctor', '--no-audio', '--url', `not a url ${TITLE}\u202etxt.exe`]);
    expect(run.code).toBe(20);
    expect(run.stdout + run.stderr).not.toMatch(CONTROL);
    expect(run.stdout + run.stderr).not.toMatch(BIDI);
    expect(run.stdout).toMatch(/^✗ endpoint\s+not a url txt\.exe is not a ws:\/\/ or wss:\/\/ URL/m);
  });

  it('an error nothing caught (a tool handler\'s stray throw quoting what it fetched) is printed as one clean line', async () => {
    const tools = join(dir, 'stray.tools.ts');
    writeFileSync(
      tools,
      [
        "export default { tools: [{ name: 'stray', parameters: { type: 'object', properties: {} },",
        `  handler: () => { setTimeout(() => { throw new Error(${JSON.stringify(`fetched ${TITLE}\u202ebody\nhint: forged`)}); }, 20); return 'ok'; } }] };`,
        '',
      ].join('\n'),
    );
    const run = await cli(['tools', 'call', tools, 'stray']);
    expect(run.code).toBe(70);
    expect(run.stderr).toMatch(/^error: tool "stray" threw outside its call \(in a timer or callback\): fetched body hint: forged$/m);
    expect(run.stderr).not.toMatch(CONTROL);
    expect(run.stderr).not.toMatch(BIDI);
    expect(run.stderr).not.toMatch(/^hint: forged/m);
  });

  it('a file name the user gives (--record) is printed cleaned in the summary', async () => {
    const record = join(dir, `talk${TITLE}\u202evaw.wav`);
    const run = await cli(['--mock', '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, 'reply.wav'), '--record', record, '--no-color']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^summary · .* · recording: .*talkvaw\.wav$/m);
    expect(run.stdout + run.stderr).not.toMatch(CONTROL);
    expect(run.stdout + run.stderr).not.toMatch(BIDI);
  });

  it('`devices` lists names cleaned and aligned in terminal columns (a Bluetooth peer names itself)', () => {
    const device = (id: number, name: string) => ({ id, name, hostAPIName: 'ALSA', maxInputChannels: 1, maxOutputChannels: 2, defaultSampleRate: 48000 });
    const lines = formatDeviceList({
      devices: [device(0, `Headset${TITLE}\nforged\u202e`), device(1, 'ヘッドセット'), device(2, 'USB')],
      defaultInput: 0,
      defaultOutput: 2,
    } as Parameters<typeof formatDeviceList>[0]);
    expect(lines).toHaveLength(4);
    expect(lines.join('\n')).not.toMatch(CONTROL);
    expect(lines.join('\n')).not.toMatch(BIDI);
    expect(lines[1]).toMatch(/^ 0 {2}Headset forged {2}/);
    // The "host api" column starts at the same terminal column on every row (katakana is two columns wide).
    const column = (line: string): number => [...line.slice(0, line.indexOf('ALSA'))].reduce((sum, char) => sum + (/[\u30a0-\u30ff]/.test(char) ? 2 : 1), 0);
    expect(new Set(lines.slice(1).map(column)).size).toBe(1);
  });
});
