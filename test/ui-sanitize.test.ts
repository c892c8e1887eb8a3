/**
 * Issue 13 item 9: text from the server or the model never drives the terminal and never floods it.
 * Unit tests of the cleaner, then the built CLI against the real simulator sending hostile frames
 * (`npm run build` first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/mock/server.js';
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
  it('--json survives a frame nested 100 000 levels deep: the value is elided, the run goes on', async () => {
    const sim = await createSimulator({ profile: 'aug-2026', responseDelayMs: 20, realtimeFactor: 20 });
    simulators.push(sim);
    sim.on('server-frame', (sessionId, frame) => {
      if (frame.type === 'session.configured') sim.inject({ raw: `{"type":"x.deep","a":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }, sessionId);
    });
    const run = await cli(['--url', sim.url, '--input', utterance, '--output', join(dir, 'out-deep.wav'), '--json'], { SMALLEST_API_KEY: 'sk-test' }, 60_000);
    expect(run.stderr).not.toMatch(/internal error|call stack/i);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { frame?: { type?: string } });
    expect(JSON.stringify(lines.find((line) => line.frame?.type === 'x.deep'))).toContain('<nested too deeply>');
  }, 90_000);
});
