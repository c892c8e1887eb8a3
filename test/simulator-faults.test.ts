/** Every injectable fault reaches the client as described, and the session (or the next one) survives. */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeServerFrame } from '../src/protocol.js';
import { connectProbe, type Frame, type Probe } from '../src/mock/probe.js';
import { createSimulator, type Fault, type Simulator, type SimulatorOptions } from '../src/mock/server.js';

let simulator: Simulator | undefined;
const probes: Probe[] = [];

afterEach(async () => {
  for (const probe of probes.splice(0)) probe.socket.terminate();
  await simulator?.close();
  simulator = undefined;
});

const WEATHER = { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

async function open(options: SimulatorOptions = {}): Promise<{ probe: Probe; sessionId: string }> {
  simulator ??= await createSimulator({ responseDelayMs: 5, realtimeFactor: 100, ...options });
  const probe = await connectProbe(simulator.url, { api_key: 'k' });
  probes.push(probe);
  const created = await probe.waitFor('session.created');
  probe.send({ type: 'session.configure', session: { tools: [WEATHER] } });
  await probe.waitFor('session.configured');
  return { probe, sessionId: String(created.session_id) };
}

/** Inject into this session and wait for the first frame it produces. */
async function inject(fault: Fault, options: SimulatorOptions = {}): Promise<{ probe: Probe; frame: Frame }> {
  const { probe, sessionId } = await open(options);
  const count = probe.frames.length;
  simulator!.inject(fault, sessionId);
  return { probe, frame: await probe.waitFor(() => true, { after: count }) };
}

/** The session still answers: a response.create runs to completion. */
async function stillWorks(probe: Probe): Promise<void> {
  const count = probe.frames.length;
  probe.send({ type: 'response.create' });
  await probe.waitFor('response.done', { after: count });
}

describe('injected faults', () => {
  it('drop: the socket ends without a close frame (1006) and the simulator reports it', async () => {
    const { probe, sessionId } = await open();
    const reported = new Promise<[string, number]>((resolve) => simulator!.on('session-closed', (id, code) => resolve([id, code])));
    simulator!.inject('drop');
    expect((await probe.closed).code).toBe(1006);
    expect(await reported).toEqual([sessionId, 1006]);
    expect(simulator!.sessions()).toEqual([]);
  });

  it('malformed-json: a text frame that is not JSON', async () => {
    const { probe, frame } = await inject('malformed-json');
    expect(frame.type).toBe('(not json)');
    expect(decodeServerFrame(String(frame.text)).kind).toBe('invalid');
    await stillWorks(probe);
  });

  it('unknown-event: a well-formed frame of an unknown type', async () => {
    const { probe, frame } = await inject('unknown-event');
    expect(decodeServerFrame(JSON.stringify(frame))).toMatchObject({ kind: 'unknown', type: 'response.future_thing.delta' });
    await stillWorks(probe);
  });

  it.each(['missing-fields', 'wrong-types'] as const)('%s: a known type with an invalid body', async (fault) => {
    const { probe, frame } = await inject(fault);
    expect(decodeServerFrame(JSON.stringify(frame)).kind).toBe('invalid');
    await stillWorks(probe);
  });

  it('bad-base64-delta and odd-pcm-delta: audio deltas a player must reject', async () => {
    const bad = await inject('bad-base64-delta');
    expect(bad.frame).toMatchObject({ type: 'response.output_audio.delta', delta: '***not base64***' });
    const count = bad.probe.frames.length;
    simulator!.inject('odd-pcm-delta');
    const odd = await bad.probe.waitFor('response.output_audio.delta', { after: count });
    expect(Buffer.from(String(odd.delta), 'base64').length % 2).toBe(1);
    await stillWorks(bad.probe);
  });

  it('stale-delta and done-without-created: frames for responses that were never current', async () => {
    const stale = await inject('stale-delta');
    const created = stale.probe.ofType('response.created').map((frame) => (frame.response as { id: string }).id);
    expect(stale.frame.type).toBe('response.output_audio.delta');
    expect(created).not.toContain(stale.frame.response_id);
    const count = stale.probe.frames.length;
    simulator!.inject('done-without-created');
    const done = await stale.probe.waitFor('response.done', { after: count });
    expect(created).not.toContain((done.response as { id: string }).id);
    await stillWorks(stale.probe);
  });

  it('duplicate-call-id: two calls share one call_id; answering it still gets a narration', async () => {
    const { probe } = await inject('duplicate-call-id');
    await probe.waitFor('response.done');
    const dones = probe.ofType('response.function_call_arguments.done');
    expect(dones).toHaveLength(2);
    expect(dones[0]!.call_id).toBe(dones[1]!.call_id);
    const count = probe.frames.length;
    probe.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: String(dones[0]!.call_id), output: 'ok' } });
    probe.send({ type: 'response.create' });
    const narration = await probe.waitFor('response.done', { after: count });
    expect(probe.ofType('response.output_audio.delta').some((frame) => frame.response_id === (narration.response as { id: string }).id)).toBe(true);
  });

  it('non-json-arguments: arguments that JSON.parse rejects', async () => {
    const { probe } = await inject('non-json-arguments');
    const done = await probe.waitFor('response.function_call_arguments.done');
    expect(() => JSON.parse(String(done.arguments))).toThrow();
  });

  it('largeFrameBytes: one audio delta frame of about that size, in a complete response', async () => {
    const { probe } = await inject({ largeFrameBytes: 400_000 });
    const done = await probe.waitFor('response.done');
    const deltas = probe.ofType('response.output_audio.delta');
    expect(deltas).toHaveLength(1);
    expect(JSON.stringify(deltas[0]).length).toBeGreaterThan(390_000);
    expect(JSON.stringify(deltas[0]).length).toBeLessThan(410_000);
    expect(done).toMatchObject({ response: { status: 'completed' } });
  });

  it('dropAfterDeltas: the socket is dropped mid-response once; the next session streams normally', async () => {
    const { probe } = await open({ faults: { dropAfterDeltas: 3 } });
    probe.send({ type: 'response.create' });
    expect((await probe.closed).code).toBe(1006);
    expect(probe.ofType('response.output_audio.delta')).toHaveLength(3);
    expect(probe.ofType('response.done')).toHaveLength(0);
    const next = await open();
    await stillWorks(next.probe);
  });

  it('inject without a session id reaches every live session; with one, only that one', async () => {
    const first = await open();
    const second = await open();
    simulator!.inject('unknown-event');
    await first.probe.waitFor('response.future_thing.delta');
    await second.probe.waitFor('response.future_thing.delta');
    simulator!.inject('malformed-json', second.sessionId);
    await second.probe.waitFor('(not json)');
    await stillWorks(first.probe);
    expect(first.probe.ofType('(not json)')).toHaveLength(0);
  });
});
