/**
 * Item 12: with tools declared and no rules, the simulator calls one per user turn (round-robin,
 * arguments from the tool's JSON Schema) and narrates after the output; `hydra-chat --mock` shows it.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { autoCallForTurn } from '../src/mock/auto-calls.js';
import { sendPcm, type Frame, type Probe } from '../src/mock/probe.js';
import type { SimulatorOptions } from '../src/mock/server.js';
import { cli } from './support/cli-process.js';
import { simulatorProbes } from './support/simulator-probes.js';

const sim = simulatorProbes({ responseDelayMs: 10, realtimeFactor: 50, transcripts: true });

const ORDER = {
  type: 'function' as const,
  name: 'lookup_order',
  parameters: {
    type: 'object',
    properties: {
      order_id: { type: 'string', minLength: 20 },
      quantity: { type: 'integer', minimum: 3, maximum: 9 },
      express: { type: 'boolean' },
      size: { type: 'string', enum: ['small', 'large'] },
      when: { type: 'string', format: 'date' },
      tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
      note: { type: ['string', 'null'], maxLength: 5 },
      address: { type: 'object', properties: { city: { type: 'string', default: 'Oslo' } }, required: ['city'], additionalProperties: false },
      price: { anyOf: [{ type: 'null' }, { type: 'number', exclusiveMinimum: 0 }] },
    },
    required: ['order_id', 'quantity', 'size', 'tags', 'address'],
    additionalProperties: false,
  },
};
const WEATHER = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const PING = { type: 'function' as const, name: 'ping' };

async function configured(options: SimulatorOptions, tools: unknown[]): Promise<Probe> {
  const probe = await sim.start(options);
  probe.send({ type: 'session.configure', session: { tools } });
  await probe.waitFor('session.configured');
  return probe;
}

/** One user turn; answers every call with `output` and one response.create; resolves with the turn's frames. */
async function userTurn(probe: Probe, output = '{"ok":true}'): Promise<Frame[]> {
  const count = probe.frames.length;
  sendPcm(probe, sim.turn);
  const first = await probe.waitFor('response.done', { after: count });
  const calls = probe.frames.slice(count).filter((frame) => frame.type === 'response.function_call_arguments.done');
  if (calls.length === 0) return probe.frames.slice(count);
  for (const call of calls) probe.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.call_id, output } });
  probe.send({ type: 'response.create' });
  await probe.waitFor((frame) => frame.type === 'response.done' && frame !== first, { after: count });
  return probe.frames.slice(count);
}

const callsIn = (frames: Frame[]) => frames.filter((frame) => frame.type === 'response.function_call_arguments.done');

describe('automatic tool calls', () => {
  it('one call per user turn, round-robin over the declared tools, then narration of the output', async () => {
    const probe = await configured({}, [WEATHER, ORDER, PING]);
    const names: unknown[] = [];
    for (let index = 0; index < 4; index++) {
      const frames = await userTurn(probe, `"result ${index}"`);
      const calls = callsIn(frames);
      expect(calls).toHaveLength(1);
      names.push(calls[0]!.name);
      const narration = frames.filter((frame) => frame.type === 'response.output_audio_transcript.delta').map((frame) => frame.delta).join('');
      expect(narration).toContain(`result ${index}`);
      expect(frames.filter((frame) => frame.type === 'response.output_audio.delta').length).toBeGreaterThan(0);
    }
    expect(names).toEqual(['get_weather', 'lookup_order', 'ping', 'get_weather']);
    expect(probe.ofType('error')).toEqual([]);
  });

  it('arguments are valid against the JSON Schema, and the same every time', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(ORDER.parameters);
    const [call] = autoCallForTurn([ORDER], 1);
    const args = JSON.parse(call!.arguments) as Record<string, unknown>;
    expect(validate(args) ? [] : validate.errors).toEqual([]);
    expect(args).toMatchObject({ quantity: 3, size: 'small', when: '2026-05-23', address: { city: 'Oslo' }, express: true });
    expect(autoCallForTurn([ORDER], 1)).toEqual(autoCallForTurn([ORDER], 1));
    expect(autoCallForTurn([WEATHER], 7)[0]).toEqual({ name: 'get_weather', arguments: '{"city":"example city"}' });
    expect(autoCallForTurn([PING], 1)[0]).toEqual({ name: 'ping', arguments: '{}' });
    expect(autoCallForTurn([], 1)).toEqual([]);
  });

  it('opt-outs: rules (even an empty list) or autoToolCalls: false give ordinary echo turns', async () => {
    for (const options of [{ rules: [] }, { autoToolCalls: false }] as SimulatorOptions[]) {
      const probe = await configured(options, [WEATHER]);
      const frames = await userTurn(probe);
      expect(callsIn(frames)).toEqual([]);
      expect(frames.filter((frame) => frame.type === 'response.output_audio.delta').length).toBeGreaterThan(0);
      await sim.close();
    }
  });

  it('without declared tools a turn is an ordinary echo', async () => {
    const probe = await configured({}, []);
    expect(callsIn(await userTurn(probe))).toEqual([]);
  });
});

describe('hydra-chat --mock with tools', () => {
  const env = { SMALLEST_API_KEY: '' };
  const jsonFrames = (stdout: string) =>
    stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { dir?: string; frame?: Frame });

  it('by default: a real tool round trip (call, output, narration); --mock-transcripts adds transcripts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hydra-auto-'));
    const run = await cli(
      ['--mock', '--mock-transcripts', '--tools', 'examples/tools.json', '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, 'reply.wav'), '--json'],
      env,
      60_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const frames = jsonFrames(run.stdout).filter((line) => line.frame);
    const server = (type: string) => frames.filter((line) => line.frame!.type === type).map((line) => line.frame!);
    expect(server('response.function_call_arguments.done').map((frame) => [frame.name, frame.arguments])).toEqual([['get_weather', '{"city":"example city"}']]);
    const output = frames.find((line) => line.frame!.type === 'conversation.item.create');
    expect(output?.frame).toMatchObject({ item: { type: 'function_call_output', output: expect.stringContaining('Paris') } });
    expect(server('response.created')).toHaveLength(2);
    expect(server('response.output_audio_transcript.delta').map((frame) => frame.delta).join('')).toContain('get_weather returned');
    expect(server('error')).toEqual([]);
  });

  it('--mock-rules: exactly those calls; without --mock the --mock-… flags are a usage error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hydra-rules-'));
    const rules = join(dir, 'rules.json');
    await writeFile(rules, JSON.stringify([{ turn: 1, calls: [{ name: 'lookup_order', arguments: { order_id: 'A17' } }] }]));
    const run = await cli(['--mock', '--mock-rules', rules, '--tools', 'examples/tools.json', '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, 'reply.wav'), '--json'], env, 60_000);
    expect(run.code, run.stderr).toBe(0);
    const calls = jsonFrames(run.stdout).filter((line) => line.frame?.type === 'response.function_call_arguments.done');
    expect(calls.map((line) => [line.frame!.name, line.frame!.arguments])).toEqual([['lookup_order', '{"order_id":"A17"}']]);
    expect(jsonFrames(run.stdout).some((line) => line.frame?.type === 'response.output_audio_transcript.delta')).toBe(false);

    const usage = await cli(['--mock-rules', rules, '--input', 'test/fixtures/hello-16k.wav'], env);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toMatch(/--mock-rules only apply with --mock/);
    expect(usage.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
