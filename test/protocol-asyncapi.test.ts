/**
 * Contract test: every frame the simulator sends in a full session, and every client builder in
 * src/protocol.ts, validates against the AsyncAPI payload schemas (test/fixtures/hydra-ws.asyncapi.yaml,
 * a copy of Smallest's spec). Where hydra-protocol.md documents a disagreement with the spec, a minimal
 * patch is applied below, each citing its section.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendAudio,
  responseCancel,
  responseCreate,
  SERVER_EVENT_TYPES,
  sessionConfigure,
  sessionUpdate,
  toolOutput,
  type ClientEvent,
} from '../src/protocol.js';
import { connectProbe, readPcm16Wav, sendPcm, silence16k, type Probe } from '../src/mock/probe.js';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import { asyncapiProblems } from './support/asyncapi.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON is untyped by nature
type Json = Record<string, any>;

// The spec with the patches hydra-protocol.md documents (§2.3, §6.2, §2.8/§7.2/§10.2, §4.4): test/support/asyncapi.ts.
const problems = asyncapiProblems;

const WEATHER = { type: 'function' as const, name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
const TIME = { type: 'function' as const, name: 'get_time', parameters: { type: 'object', properties: {} } };

describe('frames the simulator sends', () => {
  const sent: Record<string, unknown>[] = [];
  const simulators: Simulator[] = [];
  const probes: Probe[] = [];

  async function start(options: Parameters<typeof createSimulator>[0]): Promise<Simulator> {
    const simulator = await createSimulator({ responseDelayMs: 5, realtimeFactor: 100, transcripts: true, ...options });
    simulator.on('server-frame', (_id, frame) => sent.push(frame));
    simulators.push(simulator);
    return simulator;
  }
  async function connect(simulator: Simulator, query: Record<string, string> = { model: 'hydra', api_key: 'k' }): Promise<Probe> {
    const probe = await connectProbe(simulator.url, query);
    probes.push(probe);
    return probe;
  }

  beforeAll(async () => {
    const hello = (await readPcm16Wav(new URL('./fixtures/hello-16k.wav', import.meta.url).pathname)).pcm;
    const turn = Buffer.concat([hello, silence16k(800)]);
    const rules = [
      { turn: 1, calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_time', arguments: {} }] },
      { turn: 3, calls: [{ name: 'get_time', arguments: {} }] },
    ];
    // greeting, tool turn (two calls) + narration, echo turn, tool timeout, errors, session.update
    const main = await start({ rules, toolTimeoutMs: 50 });
    const a = await connect(main);
    a.send(sessionConfigure({ instructions: 'Be brief.', voice: 'wren', tools: [WEATHER, TIME], generate_initial_response: true }));
    await a.waitFor('response.done');
    sendPcm(a, turn);
    await a.waitFor((frame) => frame.type === 'response.done' && a.ofType('response.done').length === 2);
    for (const done of a.ofType('response.function_call_arguments.done')) a.send(toolOutput(String(done.call_id), '{"ok":true}'));
    a.send(responseCreate());
    await a.waitFor(() => a.ofType('response.done').length === 3);
    sendPcm(a, turn);
    await a.waitFor(() => a.ofType('response.done').length === 4);
    sendPcm(a, turn);
    await a.waitFor((frame) => frame.type === 'error');
    a.send({ type: 'input_audio_buffer.append', event_id: 'evt_1', audio: 'AAAA' });
    a.send('{oops');
    a.send({ audio: 'x' });
    a.send({ type: 'session.update', session: { nope: true } });
    a.send(sessionUpdate([WEATHER]));
    await a.waitFor('session.updated');
    // short burst → incomplete user item
    const tone = Buffer.alloc(3200 * 2);
    for (let i = 0; i < 3200; i++) tone.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), i * 2);
    sendPcm(a, Buffer.concat([tone, silence16k(800)]));
    await a.waitFor((frame) => frame.type === 'conversation.item.done' && (frame.item as Json).status === 'incomplete');

    // barge-in and client cancel, on a slow simulator with capacity 1 (→ server_full for a second socket)
    const slow = await start({ realtimeFactor: 1, capacity: 1 });
    const b = await connect(slow);
    b.send(sessionConfigure({ generate_initial_response: true }));
    await b.waitFor('response.output_audio.delta');
    sendPcm(b, turn);
    await b.waitFor((frame) => frame.type === 'response.done');
    await b.waitFor((frame) => frame.type === 'response.output_audio.delta' && b.ofType('response.created').length === 2);
    b.send(responseCancel());
    await b.waitFor(() => b.ofType('response.done').length === 2);
    await (await connect(slow)).closed;

    // aug-2026: warning + rejected voice
    const aug = await start({ profile: 'aug-2026' });
    const c = await connect(aug);
    c.send(sessionConfigure({ voice: 'wren' }));
    await c.waitFor('session.configured');
  }, 20_000);

  afterAll(async () => {
    for (const probe of probes) probe.socket.terminate();
    await Promise.all(simulators.map((simulator) => simulator.close()));
  });

  it('covers every server event type protocol.ts knows', () => {
    const types = new Set(sent.map((frame) => frame.type));
    expect(SERVER_EVENT_TYPES.filter((type) => !types.has(type))).toEqual([]);
    expect(sent.length).toBeGreaterThan(100);
  });

  it('covers the documented cases: both cancel reasons, incomplete items, every error code it can produce', () => {
    const reasons = sent.filter((frame) => frame.type === 'response.done').map((frame) => (frame.response as Json).status_details?.reason);
    expect(reasons).toEqual(expect.arrayContaining(['interrupted', 'client_cancelled', undefined]));
    const codes = new Set(sent.filter((frame) => frame.type === 'error').map((frame) => (frame.error as Json).code));
    expect([...codes].sort()).toEqual(['invalid_audio', 'invalid_frame', 'invalid_request_error', 'server_full', 'tool_response_timeout']);
  });

  it('every frame validates against its AsyncAPI payload schema', () => {
    const failures = sent.map((frame) => ({ type: frame.type, problem: problems(frame) })).filter((entry) => entry.problem !== '');
    expect(failures).toEqual([]);
  });
});

describe('frames the client builds', () => {
  const built: [string, ClientEvent][] = [
    ['sessionConfigure (May voice)', sessionConfigure({ instructions: 'Be brief.', voice: 'wren', tools: [WEATHER], generate_initial_response: true })],
    ['sessionConfigure (empty)', sessionConfigure({})],
    ['sessionConfigure (Aug voice)', sessionConfigure({ voice: 'sterling' })],
    ['sessionUpdate', sessionUpdate([WEATHER, TIME])],
    ['appendAudio', appendAudio(Buffer.alloc(640))],
    ['toolOutput', toolOutput('call_1', '{"temp":12}')],
    ['responseCreate', responseCreate()],
    ['responseCancel', responseCancel()],
    ['responseCancel(id)', responseCancel('resp_1')],
  ];
  it.each(built)('%s validates', (_name, event) => {
    expect(problems(event as unknown as Record<string, unknown>)).toBe('');
  });

  it('the spec itself catches a wrong frame (the validators are not vacuous)', () => {
    expect(problems({ type: 'session.configure', session: { voice: 'nobody' } })).not.toBe('');
    expect(problems({ type: 'input_audio_buffer.append' })).not.toBe('');
    expect(problems({ type: 'conversation.item.added', previous_item_id: null })).not.toBe('');
  });
});

describe('captured fixtures (test/fixtures/*.jsonl)', () => {
  const dir = new URL('./fixtures/', import.meta.url);
  // doc-examples.jsonl is excluded: the doc's own examples send `previous_item_id: null` and `text: null`,
  // which the spec types as strings (§2.7) — the simulator omits those keys instead.
  const files = readdirSync(dir).filter((name) => name.endsWith('.jsonl') && name !== 'doc-examples.jsonl');
  it.each(files)('every frame in %s validates', (name) => {
    const lines = readFileSync(new URL(name, dir), 'utf8').split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    const failures = lines.map((line) => problems(JSON.parse(line) as Record<string, unknown>)).filter((problem) => problem !== '');
    expect(failures).toEqual([]);
  });
});
