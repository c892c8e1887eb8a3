/**
 * Smallest's own clients against the simulator: each fixture in test/fixtures/smallest/ holds the
 * frames one of their clients sent (recorded from the real client against `hydra-chat simulate`,
 * audio elided; see each file's `meta`). Replayed in order over a real socket, waiting where the client
 * waited, the session must work: configured, tool output accepted, narration follows, no error frames,
 * and every server frame valid against the AsyncAPI schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectProbe, readPcm16Wav, type Probe } from '../src/mock/probe.js';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import type { Profile } from '../src/mock/profile.js';
import { asyncapiProblems } from './support/asyncapi.js';

type Meta = {
  client: string;
  connect: { query: Record<string, string>; bearer: boolean };
  simulator: { profile: Profile };
  expect: { responses: number; voice: string; outputRate: number; toolOutput?: string };
};
type Step = { after: { type: string; n: number } | null; delayMs?: number; frame: Record<string, unknown> };

const dir = new URL('./fixtures/smallest/', import.meta.url);
const files = readdirSync(dir).filter((name) => name.endsWith('.jsonl'));
let hello: Buffer;
let simulator: Simulator | undefined;
let probe: Probe | undefined;

beforeAll(async () => {
  hello = (await readPcm16Wav(new URL('./fixtures/hello-16k.wav', import.meta.url).pathname)).pcm;
});

afterEach(async () => {
  probe?.socket.terminate();
  await simulator?.close();
  simulator = probe = undefined;
});

function load(name: string): { meta: Meta; steps: Step[] } {
  const [head, ...rest] = readFileSync(new URL(name, dir), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { meta: head!.meta as Meta, steps: rest as Step[] };
}

/** `pcm16:hello-16k.wav@<offset>+<bytes>,zeros+<bytes>` → the audio the client sent. */
function audio(spec: string): string {
  const parts = spec.replace(/^pcm16:/, '').split(',');
  const pcm = parts.map((part) => {
    const [, offset, bytes] = /^hello-16k\.wav@(\d+)\+(\d+)$/.exec(part) ?? [];
    if (offset !== undefined) return hello.subarray(Number(offset), Number(offset) + Number(bytes));
    const zeros = /^zeros\+(\d+)$/.exec(part)?.[1];
    if (zeros === undefined) throw new Error(`bad audio spec ${spec}`);
    return Buffer.alloc(Number(zeros));
  });
  return Buffer.concat(pcm).toString('base64');
}

/** Fill in what the recording elided or what this run mints anew (the call ids). */
function materialise(frame: Record<string, unknown>, client: Probe): string {
  const calls = client.ofType('response.function_call_arguments.done');
  return JSON.stringify(frame, (key, value: unknown) => {
    if (key === 'audio' && typeof value === 'string' && value.startsWith('pcm16:')) return audio(value);
    const call = typeof value === 'string' ? /^\$call_id#(\d+)$/.exec(value)?.[1] : undefined;
    return call === undefined ? value : calls[Number(call) - 1]!.call_id;
  });
}

describe("Smallest's clients, replayed from test/fixtures/smallest/", () => {
  it('has fixtures for the Python SDK, the cookbook quickstart and the browser demo', () => {
    expect(files).toEqual(expect.arrayContaining(['python-sdk-plain.jsonl', 'python-sdk-tools.jsonl', 'cookbook-quickstart.jsonl', 'browser-demo-tools.jsonl']));
  });

  it.each(files)('%s: configured, answered, no error frames, every server frame valid', async (name) => {
    const { meta, steps } = load(name);
    simulator = await createSimulator({ profile: meta.simulator.profile, transcripts: true, realtimeFactor: 2, responseDelayMs: 20, toolTimeoutMs: 3000 });
    const query = Object.fromEntries(Object.entries(meta.connect.query).map(([key, value]) => [key, value === '<key>' ? 'fixture-key' : value]));
    probe = await connectProbe(simulator.url, query, meta.connect.bearer ? { Authorization: 'Bearer fixture-key' } : {});
    const client = probe;
    for (const step of steps) {
      if (step.after) {
        const { type, n } = step.after;
        await client.waitFor(() => client.ofType(type).length >= n, { timeoutMs: 10_000 });
      }
      if (step.delayMs) await new Promise((resolve) => setTimeout(resolve, step.delayMs)); // the client's own debounce
      client.send(materialise(step.frame, client));
    }
    await client.waitFor(() => client.ofType('response.done').length >= meta.expect.responses, { timeoutMs: 15_000 });
    const last = client.ofType('response.done')[meta.expect.responses - 1]!;

    const configured = client.ofType('session.configured');
    expect(configured).toHaveLength(1);
    expect(configured[0]!.session).toMatchObject({ voice: meta.expect.voice, output_audio_sample_rate: meta.expect.outputRate });
    const dones = client.ofType('response.done').map((frame) => frame.response as { status: string });
    expect(dones.map((response) => response.status)).toEqual(Array(meta.expect.responses).fill('completed'));
    expect(client.ofType('error')).toEqual([]);
    if (meta.expect.toolOutput !== undefined) {
      // the tool response, then a narration that carries the posted output
      expect(client.ofType('response.function_call_arguments.done')).toHaveLength(1);
      const narrationId = (last.response as { id: string }).id;
      const narration = client.ofType('response.output_audio_transcript.delta').filter((frame) => frame.response_id === narrationId);
      expect(narration.map((frame) => frame.delta).join('')).toContain(meta.expect.toolOutput);
      expect(client.ofType('response.output_audio.delta').filter((frame) => frame.response_id === narrationId).length).toBeGreaterThan(0);
    } else {
      expect(client.ofType('response.output_audio.delta').length).toBeGreaterThan(0);
    }
    const invalid = client.frames.map((frame) => ({ type: frame.type, problem: asyncapiProblems(frame) })).filter((entry) => entry.problem !== '');
    expect(invalid).toEqual([]);
  });
});
