/** decodeServerFrame on fixtures and on garbage: it never throws, and says what it found. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeServerFrame, droppedFieldsOf, SERVER_EVENT_TYPES } from '../src/protocol.js';
import { decodeClientFrame } from '../src/protocol-client.js';
import { loadCorpus, mutate as fuzzFrame, prng } from './support/fuzz.js';
import { parseWithSchema } from './support/server-event-schema.js';

const fixturesDir = new URL('./fixtures/', import.meta.url);
const fixtureFiles = readdirSync(fixturesDir).filter((name) => name.endsWith('.jsonl'));
const fixtureLines = fixtureFiles.flatMap((name) =>
  readFileSync(new URL(name, fixturesDir), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => ({ name, line })),
);

const WEIRD_VALUES: unknown[] = [null, 0, -1, 1.5, 1e308, '', 'x', true, [], {}, [1, 'a'], { nested: { deep: [null] } }, '\u0000', '__proto__'];

function mutate(line: string, random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const choice = Math.floor(random() * 7);
  if (choice === 0) return line.slice(0, Math.floor(random() * line.length)); // truncated
  if (choice === 1) {
    const at = Math.floor(random() * line.length);
    return line.slice(0, at) + pick(['"', '{', '}', ',', ':', '\\', '\u00ff', ']']) + line.slice(at + 1); // corrupted byte
  }
  const frame = JSON.parse(line) as Record<string, unknown>;
  const keys = Object.keys(frame);
  if (choice === 2) delete frame[pick(keys)]; // missing field
  else if (choice === 3) frame[pick(keys)] = pick(WEIRD_VALUES); // wrong type
  else if (choice === 4) frame.type = pick([...SERVER_EVENT_TYPES, 'response.new_thing', '', 'ERROR']); // retyped
  else if (choice === 5) {
    const nested = Object.values(frame).find((value) => typeof value === 'object' && value !== null) as Record<string, unknown> | undefined;
    if (nested) nested[pick(Object.keys(nested).concat('extra'))] = pick(WEIRD_VALUES); // nested damage
  } else return JSON.stringify(pick(WEIRD_VALUES)); // not an object at all
  return JSON.stringify(frame);
}

describe('decodeServerFrame', () => {
  it('finds the fixtures it is about to fuzz', () => {
    expect(fixtureFiles).toEqual(expect.arrayContaining(['greeting.jsonl', 'user-turn.jsonl', 'tool-turn.jsonl', 'barge-in.jsonl', 'errors.jsonl', 'doc-examples.jsonl']));
  });

  it.each(fixtureFiles)('decodes every line of %s as a known event', (name) => {
    for (const { line } of fixtureLines.filter((entry) => entry.name === name)) {
      const decoded = decodeServerFrame(line);
      expect(decoded.kind, line.slice(0, 120)).toBe('event');
    }
  });

  it('never throws on 3000 mutated frames, and always explains an invalid one', () => {
    const random = prng(20260523);
    const kinds = { event: 0, unknown: 0, invalid: 0 };
    for (let sample = 0; sample < 3000; sample++) {
      const text = mutate(fixtureLines[Math.floor(random() * fixtureLines.length)]!.line, random);
      const decoded = decodeServerFrame(text);
      kinds[decoded.kind]++;
      if (decoded.kind === 'invalid') expect(decoded.problem.length, text).toBeGreaterThan(0);
      if (decoded.kind === 'unknown') expect(SERVER_EVENT_TYPES).not.toContain(decoded.type);
    }
    // the sample really exercises all three outcomes
    expect(kinds.event).toBeGreaterThan(100);
    expect(kinds.unknown).toBeGreaterThan(50);
    expect(kinds.invalid).toBeGreaterThan(500);
  });

  it('keeps an unknown but well-formed type as kind unknown with its raw body', () => {
    expect(decodeServerFrame('{"type":"response.output_text.delta","delta":"hi"}')).toEqual({
      kind: 'unknown',
      type: 'response.output_text.delta',
      raw: { type: 'response.output_text.delta', delta: 'hi' },
    });
  });

  it.each([
    ['not JSON', '{"type":'],
    ['an array', '[]'],
    ['a number', '42'],
    ['null', 'null'],
    ['no type', '{"delta":"AAAA"}'],
    ['a numeric type', '{"type":7}'],
    ['a delta without response_id', '{"type":"response.output_audio.delta","delta":"AAAA"}'],
    ['a response.done without a response id', '{"type":"response.done","response":{"status":"completed"}}'],
    ['a response.created whose id is a number', '{"type":"response.created","response":{"id":42}}'],
    ['an audio delta whose delta is a number', '{"type":"response.output_audio.delta","response_id":"r","delta":7}'],
  ])('reports %s as invalid with a reason', (_name, text) => {
    const decoded = decodeServerFrame(text);
    expect(decoded.kind).toBe('invalid');
    if (decoded.kind === 'invalid') expect(decoded.problem).toMatch(/\S/);
  });
});

/**
 * The hand-written decoder against the zod statement of the same contract (the oracle): the same
 * verdict, the same event and the same notes about dropped fields, frame for frame.
 */
describe('decodeServerFrame agrees with the zod schema of every server event', () => {
  const compare = (text: string): 'event' | 'unknown' | 'invalid' => {
    const decoded = decodeServerFrame(text);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      expect(decoded.kind, text).toBe('invalid');
      return decoded.kind;
    }
    const type = (value as { type?: unknown } | null)?.type;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof type !== 'string') {
      expect(decoded.kind, text).toBe('invalid');
      return decoded.kind;
    }
    if (!SERVER_EVENT_TYPES.includes(type as never)) {
      expect(decoded, text).toEqual({ kind: 'unknown', type, raw: value });
      return decoded.kind;
    }
    const oracle = parseWithSchema(value);
    if (!oracle.success) {
      expect(decoded.kind, text).toBe('invalid');
      if (decoded.kind === 'invalid') {
        expect(decoded.type).toBe(type);
        // The problem names the first field the schema names.
        expect(decoded.problem, text).toContain(`${oracle.issues[0]}:`);
      }
      return decoded.kind;
    }
    expect(decoded.kind, text).toBe('event');
    if (decoded.kind === 'event') {
      expect(decoded.event, text).toEqual(oracle.data);
      expect(droppedFieldsOf(decoded.event), text).toEqual(oracle.dropped);
    }
    return decoded.kind;
  };

  it('on every recorded frame', () => {
    for (const { line } of fixtureLines) expect(compare(line)).toBe('event');
  });

  it('on 20 000 mutated frames (both fuzzers), reaching every verdict and every event type', () => {
    const random = prng(20261130);
    const corpus = loadCorpus();
    const kinds = { event: 0, unknown: 0, invalid: 0 };
    const decodedTypes = new Set<string>();
    for (let sample = 0; sample < 20_000; sample++) {
      const text = sample % 2 === 0 ? mutate(fixtureLines[Math.floor(random() * fixtureLines.length)]!.line, random) : fuzzFrame(corpus, SERVER_EVENT_TYPES, random);
      const kind = compare(text);
      kinds[kind]++;
      if (kind === 'event') decodedTypes.add((JSON.parse(text) as { type: string }).type);
    }
    expect(kinds.event).toBeGreaterThan(3000);
    expect(kinds.invalid).toBeGreaterThan(3000);
    expect(kinds.unknown).toBeGreaterThan(100);
    expect([...decodedTypes].sort()).toEqual([...SERVER_EVENT_TYPES].sort());
  });

  it.each([
    ['null optional fields everywhere', { type: 'response.done', event_id: null, response: { id: 'r', status: null, status_details: { reason: null, error: { code: 7 } }, output: [{ id: null, content: [{ type: 'x', text: null }] }, 'not an item'], usage: null } }],
    ['a rate as text, out of range, fractional', { type: 'session.configured', session: { output_audio_sample_rate: ' 24000 ', input_audio_sample_rate: 999, voice: ['wren'] } }],
    ['arguments as an object, an array, a number', { type: 'response.function_call_arguments.done', call_id: 'c', arguments: { a: [1] }, name: 5 }],
    ['an item whose content holds a non-object', { type: 'conversation.item.done', item: { type: 'message', content: [{ type: 'input_text', text: 'hi' }, 3] } }],
    ['a required object that is an array', { type: 'error', error: [] }],
    ['a warning envelope of the wrong shape', { type: 'warning', warning: 'deprecated', code: 'model_deprecated' }],
    ['__proto__ and constructor keys', JSON.parse('{"type":"response.created","response":{"id":"r","__proto__":{"polluted":true},"constructor":1}}') as Record<string, unknown>],
  ])('%s', (_name, frame) => {
    compare(JSON.stringify(frame));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('decodeClientFrame (the simulator reads clients strictly)', () => {
  it('rejects unknown keys and unknown types that the lenient server-side decoder would keep', () => {
    expect(decodeClientFrame('{"type":"response.create","extra":1}').kind).toBe('invalid');
    expect(decodeClientFrame('{"type":"input_audio_buffer.commit"}').kind).toBe('invalid');
    expect(decodeClientFrame('{"type":"response.cancel","response_id":"resp_1"}').kind).toBe('event');
  });
});
