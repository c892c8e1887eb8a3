/**
 * What Smallest's own clients do, against the simulator (issue 12, items 7–9): answer a tool call the
 * moment its arguments are done, send explicit nulls for absent fields, and render every echoed item.
 */
import { describe, expect, it } from 'vitest';
import { sendPcm, type Frame, type Probe } from '../src/mock/probe.js';
import type { SimulatorOptions } from '../src/mock/server.js';
import { simulatorProbes } from './support/simulator-probes.js';

const sim = simulatorProbes({ responseDelayMs: 10, transcripts: true });

const MENU = { type: 'function', name: 'get_menu', parameters: { type: 'object', properties: {}, required: [] } };
const WEATHER = { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

async function open(options: SimulatorOptions): Promise<Probe> {
  return sim.start(options);
}

async function configured(options: SimulatorOptions, session: Record<string, unknown>): Promise<Probe> {
  const probe = await open(options);
  probe.send({ type: 'session.configure', session });
  await probe.waitFor('session.configured');
  return probe;
}

/**
 * Resolves once a tool timer started now has certainly fired: a control session on the same simulator
 * (whose rule calls `get_menu` on turn 1) leaves its call unanswered until its tool_response_timeout
 * arrives. No sleeps: anything armed earlier in the session under test would have fired before.
 */
async function toolTimeoutElapsed(): Promise<void> {
  const control = await sim.connect();
  control.send({ type: 'session.configure', session: { tools: [MENU, WEATHER] } });
  await control.waitFor('session.configured');
  sendPcm(control, sim.turn);
  await control.waitFor((frame) => frame.type === 'error' && (frame.error as { code: string }).code === 'tool_response_timeout', { timeoutMs: 8000 });
}

const responseOf = (frame: Frame) => frame.response as Record<string, unknown>;
const transcriptOf = (probe: Probe, responseId: unknown) =>
  probe
    .ofType('response.output_audio_transcript.delta')
    .filter((frame) => frame.response_id === responseId)
    .map((frame) => frame.delta)
    .join('');

describe('a tool output sent right after …arguments.done (item 7)', () => {
  // realtimeFactor 1: 40 ms between …arguments.done and the tool response's response.done, as on the
  // real service; a client that answers at once (Smallest's SDK, no debounce) lands inside that window.
  const rules = [{ turn: 1, calls: [{ name: 'get_menu', arguments: {} }] }];

  it('output + response.create before response.done: accepted, narrated after it, no tool_response_timeout', async () => {
    const probe = await configured({ rules, realtimeFactor: 1, toolTimeoutMs: 300 }, { tools: [MENU] });
    let answeredBeforeDone = false;
    probe.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type !== 'response.function_call_arguments.done') return;
      probe.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: frame.call_id, output: '{"dish":"ramen"}' } });
      probe.send({ type: 'response.create' });
      answeredBeforeDone = probe.ofType('response.done').length === 0;
    });
    sendPcm(probe, sim.turn);
    const toolDone = await probe.waitFor('response.done');
    const narration = await probe.waitFor((frame) => frame.type === 'response.done' && frame !== toolDone, { timeoutMs: 8000 });
    expect(answeredBeforeDone).toBe(true);
    expect(responseOf(toolDone).status).toBe('completed');
    expect(responseOf(narration).status).toBe('completed');
    const created = probe.ofType('response.created');
    expect(created).toHaveLength(2);
    expect(probe.frames.indexOf(created[1]!)).toBeGreaterThan(probe.frames.indexOf(toolDone));
    expect(transcriptOf(probe, responseOf(narration).id)).toContain('ramen');
    // past the tool timeout: still no error
    await toolTimeoutElapsed();
    expect(probe.ofType('error')).toEqual([]);
  });

  it("the browser demo's pattern: outputs at once, response.create 220 ms later → the narration carries the output", async () => {
    const probe = await configured({ rules, realtimeFactor: 1, toolTimeoutMs: 2000 }, { tools: [MENU] });
    probe.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type !== 'response.function_call_arguments.done') return;
      probe.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: frame.call_id, output: '"miso soup"' } });
      setTimeout(() => probe.send({ type: 'response.create' }), 220);
    });
    sendPcm(probe, sim.turn);
    const toolDone = await probe.waitFor('response.done');
    const narration = await probe.waitFor((frame) => frame.type === 'response.done' && frame !== toolDone, { timeoutMs: 8000 });
    expect(transcriptOf(probe, responseOf(narration).id)).toContain('miso soup');
    expect(probe.ofType('error')).toHaveLength(0);
  });

  it('a barge-in that cancels the tool response drops the queued response.create without a false timeout', async () => {
    const probe = await configured(
      { rules: [{ turn: 1, calls: [{ name: 'get_menu', arguments: {} }, { name: 'get_weather', arguments: { city: 'Oslo' } }] }], realtimeFactor: 0.25, toolTimeoutMs: 300 },
      { tools: [MENU, WEATHER] },
    );
    sendPcm(probe, sim.turn);
    const first = await probe.waitFor('response.function_call_arguments.done');
    probe.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: first.call_id, output: '{}' } });
    probe.send({ type: 'response.create' });
    sendPcm(probe, sim.turn); // the user speaks again while the second call is still streaming
    const cancelled = await probe.waitFor('response.done');
    expect(responseOf(cancelled)).toMatchObject({ status: 'cancelled', status_details: { reason: 'interrupted' } });
    await probe.waitFor('input_audio_buffer.speech_stopped');
    await toolTimeoutElapsed();
    expect(probe.ofType('error')).toEqual([]);
  });
});

describe('explicit nulls (item 8)', () => {
  it("session.configure with the Python SDK's nulls is configured with the defaults", async () => {
    const probe = await open({});
    probe.send({
      type: 'session.configure',
      event_id: null,
      session: { instructions: 'Be brief.', voice: null, tools: null, generate_initial_response: null },
    });
    const configured = await probe.waitFor('session.configured');
    expect(configured.session).toMatchObject({ instructions: 'Be brief.', voice: 'wren', tools: [], generate_initial_response: false });
    expect(probe.ofType('error')).toHaveLength(0);
  });

  it('nulls inside tools and items, and on response.create / response.cancel, are absent too', async () => {
    const probe = await configured(
      { rules: [{ turn: 1, calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] }] },
      { tools: [{ ...WEATHER, description: null }], voice: 'reed' },
    );
    sendPcm(probe, sim.turn);
    const done = await probe.waitFor('response.function_call_arguments.done');
    const item = { id: null, type: 'function_call_output', role: null, status: null, content: null, call_id: done.call_id, name: null, arguments: null, output: '"sunny"' };
    probe.send({ type: 'conversation.item.create', event_id: null, item });
    probe.send({ type: 'response.create', event_id: null, response: null });
    const toolDone = await probe.waitFor('response.done');
    const narration = await probe.waitFor((frame) => frame.type === 'response.done' && frame !== toolDone);
    expect(transcriptOf(probe, responseOf(narration).id)).toContain('sunny');
    probe.send({ type: 'response.cancel', event_id: null, response_id: null });
    probe.send('not json');
    await probe.waitFor('error');
    expect(probe.ofType('error').map((frame) => (frame.error as { code: string }).code)).toEqual(['invalid_frame']);
  });

  it.each([
    ['session: null', null, {}],
    ['a wrong type for one field', { instructions: 'Be brief.', voice: 42 }, { instructions: 'Be brief.', voice: 'wren' }],
    ['an invalid tool list', { voice: 'knox', tools: 'get_weather' }, { voice: 'knox', tools: [] }],
    ['an unknown key on a tool', { tools: [{ ...WEATHER, strict: true }], generate_initial_response: false }, { tools: [] }],
  ])('an invalid session.configure (%s) → one error, then session.configured with the valid fields', async (_name, session, expected) => {
    const probe = await open({});
    probe.send({ type: 'session.configure', event_id: 'evt_bad', session });
    const configured = await probe.waitFor('session.configured');
    const errors = probe.ofType('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toMatchObject({ type: 'invalid_request_error', event_id: 'evt_bad' });
    expect(probe.frames.indexOf(errors[0]!)).toBeLessThan(probe.frames.indexOf(configured));
    expect(configured.session).toMatchObject(expected);
    // the session works: audio is accepted and answered
    sendPcm(probe, sim.turn);
    await probe.waitFor('response.done');
  });
});

describe('function_call_output is not echoed without a role (item 9)', () => {
  it('no conversation.item.added/done for the output; a text message is still acknowledged with its role', async () => {
    const probe = await configured({ rules: [{ turn: 1, calls: [{ name: 'get_menu', arguments: {} }] }] }, { tools: [MENU] });
    sendPcm(probe, sim.turn);
    const done = await probe.waitFor('response.done');
    const call = probe.ofType('response.function_call_arguments.done')[0]!;
    const count = probe.frames.length;
    probe.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.call_id, output: '[]' } });
    probe.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
    await probe.waitFor('conversation.item.done', { after: count });
    const items = probe.frames.slice(count).filter((frame) => String(frame.type).startsWith('conversation.item.'));
    expect(items.map((frame) => [frame.type, (frame.item as { type: string; role: string }).type, (frame.item as { role: string }).role])).toEqual([
      ['conversation.item.added', 'message', 'user'],
      ['conversation.item.done', 'message', 'user'],
    ]);
    expect(probe.frames.every((frame) => !String(frame.type).startsWith('conversation.item.') || (frame.item as { role?: string }).role)).toBe(true);
    expect(responseOf(done).status).toBe('completed');
  });
});
