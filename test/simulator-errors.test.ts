/** Client mistakes the simulator must answer as the doc says (§6, §10.7–10.10, §10.23–10.24), and session.update. */
import { afterEach, describe, expect, it } from 'vitest';
import { connectProbe, readPcm16Wav, sendPcm, silence16k, type Frame, type Probe } from '../src/mock/probe.js';
import { createSimulator, type Simulator } from '../src/mock/server.js';

let simulator: Simulator | undefined;
let probe: Probe | undefined;

afterEach(async () => {
  probe?.socket.terminate();
  await simulator?.close();
  simulator = probe = undefined;
});

async function configured(options: Parameters<typeof createSimulator>[0] = {}): Promise<Probe> {
  simulator = await createSimulator({ responseDelayMs: 10, realtimeFactor: 100, ...options });
  probe = await connectProbe(simulator.url, { api_key: 'k' });
  probe.send({ type: 'session.configure', session: {} });
  await probe.waitFor('session.configured');
  return probe;
}

/** Send one frame and return the next frame the simulator answers with. */
async function answerTo(client: Probe, frame: object | string): Promise<Frame> {
  const count = client.frames.length;
  client.send(frame);
  return client.waitFor(() => true, { after: count });
}

/** Send one frame, then a marker; resolves with everything that came back before the marker's error. */
async function repliesTo(client: Probe, frame: object | string): Promise<Frame[]> {
  const count = client.frames.length;
  client.send(frame);
  client.send('{"type":"marker.for.tests","event_id":"evt_marker"}');
  await client.waitFor((reply) => (reply.error as { event_id?: string } | undefined)?.event_id === 'evt_marker', { after: count });
  return client.frames.slice(count, -1);
}

const pcm = (bytes: number) => Buffer.alloc(bytes, 0).toString('base64');

describe('invalid_audio (§10.10)', () => {
  it.each([
    ['bad base64', '***'],
    ['odd length', pcm(641)],
    ['too small', pcm(40)],
    ['not a multiple of 4 chars', 'AAAAA'],
  ])('%s → error invalid_audio echoing event_id', async (_name, audio) => {
    const client = await configured();
    const reply = await answerTo(client, { type: 'input_audio_buffer.append', event_id: 'evt_audio1', audio });
    expect(reply).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_audio', param: 'audio', event_id: 'evt_audio1' } });
  });

  it('the documented example message for a 40-byte frame', async () => {
    const client = await configured();
    const reply = await answerTo(client, { type: 'input_audio_buffer.append', audio: pcm(40) });
    expect((reply.error as { message: string }).message).toBe('audio frame too small (40 bytes, need 320)');
  });

  it('a valid 320-byte frame is accepted silently', async () => {
    expect(await repliesTo(await configured(), { type: 'input_audio_buffer.append', audio: pcm(320) })).toEqual([]);
  });
});

describe('invalid_frame and invalid_request_error (§10.7, §10.8)', () => {
  it('malformed JSON → invalid_frame', async () => {
    expect(await answerTo(await configured(), '{"type": "session.update", ')).toMatchObject({ error: { code: 'invalid_frame' } });
  });

  it('unknown type → invalid_frame with the event_id echoed', async () => {
    const reply = await answerTo(await configured(), { type: 'input_audio_buffer.commit', event_id: 'evt_x' });
    expect(reply).toMatchObject({ error: { code: 'invalid_frame', event_id: 'evt_x' } });
  });

  it('valid JSON without type → invalid_request_error', async () => {
    const client = await configured();
    expect(await answerTo(client, { audio: 'AAAA' })).toMatchObject({ error: { code: 'invalid_request_error', param: 'type' } });
    expect(await answerTo(client, '[1,2]')).toMatchObject({ error: { code: 'invalid_request_error' } });
  });

  it('a known field with the wrong JSON type → invalid_request_error naming the field', async () => {
    const client = await configured();
    const reply = await answerTo(client, { type: 'input_audio_buffer.append', event_id: 'evt_t', audio: 42 });
    expect(reply).toMatchObject({ error: { code: 'invalid_request_error', param: 'input_audio_buffer.append.audio', event_id: 'evt_t' } });
    const item = await answerTo(client, { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 7, output: 'x' } });
    expect(item).toMatchObject({ error: { code: 'invalid_request_error' } });
  });

  it('a binary frame → invalid_frame', async () => {
    const client = await configured();
    const count = client.frames.length;
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.waitFor(() => true, { after: count })).toMatchObject({ error: { code: 'invalid_frame' } });
  });

  it('the session survives every error', async () => {
    const client = await configured();
    await answerTo(client, 'garbage');
    await answerTo(client, { type: 'nope' });
    client.send({ type: 'response.create' });
    expect(await client.waitFor('response.done')).toMatchObject({ response: { status: 'completed' } });
  });
});

describe('session.update (§2.6, §10.23, §10.24)', () => {
  const tool = (name: string) => ({ type: 'function', name, parameters: { type: 'object', properties: {} } });

  it('tools replace the list and are echoed alone in session.updated', async () => {
    const client = await configured();
    const reply = await answerTo(client, { type: 'session.update', session: { tools: [tool('a'), tool('b')] } });
    expect(reply).toEqual({ type: 'session.updated', event_id: expect.stringMatching(/^sv_[0-9a-f]{16}$/), session: { tools: [tool('a'), tool('b')] } });
  });

  it('frozen keys are ignored: with tools only tools are echoed; alone, no reply at all', async () => {
    const client = await configured();
    const reply = await answerTo(client, { type: 'session.update', session: { voice: 'knox', instructions: 'x', tools: [tool('c')] } });
    expect(reply.session).toEqual({ tools: [tool('c')] });
    expect(await repliesTo(client, { type: 'session.update', session: { voice: 'knox' } })).toEqual([]);
    expect(await repliesTo(client, { type: 'session.update', session: {} })).toEqual([]);
  });

  it('an unknown key → invalid_frame', async () => {
    const reply = await answerTo(await configured(), { type: 'session.update', event_id: 'evt_u', session: { tools: [], turn_detection: {} } });
    expect(reply).toMatchObject({ error: { code: 'invalid_frame', event_id: 'evt_u' } });
  });

  it('tools added by session.update can be called by a rule', async () => {
    const client = await configured({ rules: [{ turn: 1, calls: [{ name: 'late_tool', arguments: { q: 1 } }] }] });
    await answerTo(client, { type: 'session.update', session: { tools: [tool('late_tool')] } });
    const hello = await readPcm16Wav(new URL('./fixtures/hello-16k.wav', import.meta.url).pathname);
    sendPcm(client, Buffer.concat([hello.pcm, silence16k(800)]));
    expect(await client.waitFor('response.function_call_arguments.done')).toMatchObject({ name: 'late_tool', arguments: '{"q":1}' });
  });
});
