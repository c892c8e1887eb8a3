/** The simulator's connection lifecycle: upgrade, handshake, profiles, auth, capacity, idle. */
import { afterEach, describe, expect, it } from 'vitest';
import { connectProbe, sendPcm, silence16k, type Probe } from '../src/mock/probe.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/mock/server.js';

let simulator: Simulator | undefined;
const probes: Probe[] = [];

afterEach(async () => {
  for (const probe of probes.splice(0)) probe.socket.terminate();
  await simulator?.close();
  simulator = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  simulator = await createSimulator({ profile: 'may-2026', ...options });
  return simulator;
}

async function connect(query: Record<string, string> = { model: 'hydra', api_key: 'test-key' }): Promise<Probe> {
  const probe = await connectProbe(simulator!.url, query);
  probes.push(probe);
  return probe;
}

async function refusedStatus(query: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
  const error = await connectProbe(simulator!.url, query, headers).then(
    () => expect.fail('upgrade should be refused'),
    (error: { status: number; headers: Record<string, unknown> }) => error,
  );
  return error;
}

describe('handshake', () => {
  it('sends session.created with a uuid and sv_ ids, then echoes the configuration', async () => {
    const sim = await start();
    expect(sim.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/waves\/v1\/s2s$/);
    const probe = await connect();
    const created = await probe.waitFor('session.created');
    expect(created.session_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.event_id).toMatch(/^sv_[0-9a-f]{16}$/);
    expect(sim.sessions()).toEqual([created.session_id]);
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} } }];
    probe.send({ type: 'session.configure', session: { instructions: 'Be brief.', voice: 'knox', tools, generate_initial_response: false } });
    const configured = await probe.waitFor('session.configured');
    expect(configured.session).toEqual({
      instructions: 'Be brief.',
      voice: 'knox',
      tools,
      generate_initial_response: false,
      input_audio_format: 'pcm16',
      input_audio_sample_rate: 16000,
      output_audio_format: 'pcm16',
      output_audio_sample_rate: 48000,
    });
  });

  it('accepts a configure sent right on open, ignores unknown configure keys and a second configure', async () => {
    const sim = await start();
    const seen: unknown[] = [];
    sim.on('client-frame', (_id, event) => seen.push(event));
    const probe = await connect();
    probe.send({ type: 'session.configure', session: { voice: 'reed', output_audio_sample_rate: 16000, instuctions: 'typo' } });
    probe.send({ type: 'session.configure', session: { voice: 'tate' } });
    const configured = await probe.waitFor('session.configured');
    expect(configured.session).toMatchObject({ voice: 'reed', output_audio_sample_rate: 48000, generate_initial_response: false, tools: [] });
    expect(probe.frames.map((frame) => frame.type)).toEqual(['session.created', 'session.configured']);
    // a later frame proves the second configure was processed (and ignored) before it
    probe.send({ type: 'response.cancel', event_id: 'evt_marker' });
    probe.send('{"type":"nope","event_id":"evt_after"}');
    await probe.waitFor('error');
    expect(probe.ofType('session.configured')).toHaveLength(1);
    expect(probe.ofType('error')).toHaveLength(1);
    // the simulator reports client frames as decoded: unknown configure keys already dropped
    expect(seen[0]).toEqual({ type: 'session.configure', session: { voice: 'reed' } });
    expect(seen).toHaveLength(3); // configure, configure, response.cancel (the unknown type is not a ClientEvent)
  });

  it('defaults a missing model to hydra and accepts a Bearer header instead of api_key', async () => {
    await start({ apiKey: 'secret-1' });
    const probe = await connectProbe(simulator!.url, {}, { Authorization: 'Bearer secret-1' });
    probes.push(probe);
    await probe.waitFor('session.created');
    probe.send({ type: 'session.configure', session: {} });
    expect((await probe.waitFor('session.configured')).session).toMatchObject({ voice: 'wren' });
  });
});

describe('profiles and voices', () => {
  it('may-2026: an unknown voice silently falls back to wren', async () => {
    await start();
    const probe = await connect();
    probe.send({ type: 'session.configure', session: { voice: 'nobody' } });
    const configured = await probe.waitFor('session.configured');
    expect(configured.session).toMatchObject({ voice: 'wren' });
    expect(probe.ofType('error')).toHaveLength(0);
    expect(probe.ofType('warning')).toHaveLength(0);
  });

  it('may-2026: tags from August are unknown → HTTP 400', async () => {
    await start();
    expect((await refusedStatus({ model: 'hydra-v1.1', api_key: 'k' })).status).toBe(400);
  });

  it('aug-2026 + model=hydra: warning model_deprecated naming hydra-v1.0 precedes session.created', async () => {
    await start({ profile: 'aug-2026' });
    const probe = await connect();
    await probe.waitFor('session.created');
    expect(probe.frames[0]).toMatchObject({ type: 'warning', warning: { code: 'model_deprecated' } });
    expect(JSON.stringify(probe.frames[0])).toContain('hydra-v1.0');
    expect(probe.frames[1]?.type).toBe('session.created');
  });

  it('aug-2026: an unknown voice → error with param and event_id, then session.configured with sterling', async () => {
    await start({ profile: 'aug-2026' });
    const probe = await connect({ model: 'hydra-v1.0', api_key: 'k' });
    probe.send({ type: 'session.configure', event_id: 'evt_cfg', session: { voice: 'wren' } });
    const configured = await probe.waitFor('session.configured');
    const error = await probe.waitFor('error');
    expect(probe.frames.indexOf(error)).toBeLessThan(probe.frames.indexOf(configured));
    expect(error.error).toMatchObject({ code: 'invalid_request_error', param: 'session.configure.session.voice', event_id: 'evt_cfg' });
    expect(configured.session).toMatchObject({ voice: 'sterling', output_audio_sample_rate: 48000 });
    expect(probe.ofType('warning')).toHaveLength(0);
  });

  it('aug-2026: hydra-v1.1 serves the 24 newer voices (§2.3: the union), rejects the May six, announces 24 kHz', async () => {
    await start({ profile: 'aug-2026' });
    for (const voice of ['aria', 'vaughn']) {
      const probe = await connect({ model: 'hydra-v1.1', api_key: 'k' });
      probe.send({ type: 'session.configure', session: { voice } });
      expect((await probe.waitFor('session.configured')).session).toMatchObject({ voice, output_audio_sample_rate: 24000 });
      expect(probe.ofType('error')).toHaveLength(0);
    }
    const other = await connect({ model: 'hydra-v1.1', api_key: 'k' });
    other.send({ type: 'session.configure', session: { voice: 'reed' } }); // a May voice
    expect((await other.waitFor('session.configured')).session).toMatchObject({ voice: 'sterling' });
    expect(other.ofType('error')).toHaveLength(1);
  });

  it.each([['may-2026'], ['aug-2026'], ['aug-2026-probe']] as const)(
    "%s: the voices Smallest's own clients send with model=hydra are used, not swapped (§2.3)",
    async (profile) => {
      await start({ profile });
      for (const voice of ['aria', 'maya', 'kai', 'zoe', 'sterling']) {
        const probe = await connect();
        probe.send({ type: 'session.configure', session: { voice } });
        expect((await probe.waitFor('session.configured')).session).toMatchObject({ voice });
        expect(probe.ofType('error')).toHaveLength(0);
      }
    },
  );

  it('aug-2026 without a model parameter: the AsyncAPI default hydra-v1.1 (no deprecation warning, 24 kHz, sterling)', async () => {
    await start({ profile: 'aug-2026' });
    const probe = await connect({ api_key: 'k' });
    probe.send({ type: 'session.configure', session: { voice: 'vaughn' } });
    const configured = await probe.waitFor('session.configured');
    expect(configured.session).toMatchObject({ voice: 'vaughn', output_audio_sample_rate: 24000 });
    expect(probe.frames[0]?.type).toBe('session.created');
    expect(probe.ofType('warning')).toHaveLength(0);
    const plain = await connect({ api_key: 'k', model: '' }); // an empty value counts as absent
    plain.send({ type: 'session.configure', session: {} });
    expect((await plain.waitFor('session.configured')).session).toMatchObject({ voice: 'sterling', output_audio_sample_rate: 24000 });
    expect(plain.ofType('warning')).toHaveLength(0);
  });

  it('aug-2026-probe: each of the six original voices is rejected on model=hydra, then the session is configured with sterling', async () => {
    await start({ profile: 'aug-2026-probe' });
    for (const voice of ['wren', 'sloane', 'marlowe', 'reed', 'knox', 'tate']) {
      const probe = await connect();
      probe.send({ type: 'session.configure', event_id: `evt_${voice}`, session: { voice } });
      const configured = await probe.waitFor('session.configured');
      const error = await probe.waitFor('error');
      expect(probe.frames.indexOf(error)).toBeLessThan(probe.frames.indexOf(configured));
      expect(error.error).toEqual({
        type: 'invalid_request_error',
        code: 'invalid_request_error',
        message: expect.stringContaining(voice),
        param: 'session.configure.session.voice',
        event_id: `evt_${voice}`,
      });
      expect(configured.session).toMatchObject({ voice: 'sterling', output_audio_sample_rate: 48000 });
      expect(probe.frames[0]).toMatchObject({ type: 'warning', warning: { code: 'model_deprecated' } });
    }
    // and without a voice the server's default is sterling, with no error
    const plain = await connect();
    plain.send({ type: 'session.configure', session: {} });
    expect((await plain.waitFor('session.configured')).session).toMatchObject({ voice: 'sterling' });
    expect(plain.ofType('error')).toHaveLength(0);
  });

  it('an unknown profile is refused', async () => {
    await expect(createSimulator({ profile: 'jan-2027' as never })).rejects.toThrow(/unknown simulator profile 'jan-2027'/);
  });
});

describe('upgrade rejections', () => {
  it('answers 401 to a wrong key and to no key, and 404 off the documented path', async () => {
    await start({ apiKey: 'right' });
    expect((await refusedStatus({ model: 'hydra', api_key: 'wrong' })).status).toBe(401);
    expect((await refusedStatus({ model: 'hydra' })).status).toBe(401);
    expect((await refusedStatus({ model: 'hydra', api_key: '' })).status).toBe(401);
    const offPath = simulator!.url.replace('/waves/v1/s2s', '/other');
    const status = await connectProbe(offPath, { api_key: 'right' }).then(
      () => 0,
      (error: { status: number }) => error.status,
    );
    expect(status).toBe(404);
  });

  it('rejectStatus fault: 429 with Retry-After for the first N connections, then success', async () => {
    await start({ faults: { rejectStatus: { status: 429, retryAfterS: 3, times: 2 } } });
    const first = await refusedStatus({ api_key: 'k' });
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('3');
    expect((await refusedStatus({ api_key: 'k' })).status).toBe(429);
    await (await connect()).waitFor('session.created');
  });
});

describe('capacity', () => {
  it('above capacity: error server_full then close 1013, before session.created', async () => {
    const sim = await start({ capacity: 1 });
    const serverSawClose = new Promise<number>((resolve) => sim.on('session-closed', (_id, code) => resolve(code)));
    const first = await connect();
    await first.waitFor('session.created');
    const second = await connect();
    const closed = await second.closed;
    expect(closed.code).toBe(1013);
    expect(second.frames.map((frame) => frame.type)).toEqual(['error']);
    expect(second.frames[0]).toMatchObject({ error: { code: 'server_full' } });
    expect(await serverSawClose).toBe(1013);
    expect(sim.sessions()).toHaveLength(1);
    first.close();
    await first.closed;
    const third = await connect();
    await third.waitFor('session.created');
  });

  it('serverFullTimes: the first N connections are refused with 1013, later ones succeed', async () => {
    await start({ faults: { serverFullTimes: 2 } });
    for (let attempt = 0; attempt < 2; attempt++) expect((await (await connect()).closed).code).toBe(1013);
    await (await connect()).waitFor('session.created');
  });
});

describe('idle timeout', () => {
  it('closes with 1000 and no error frame after the idle timeout', async () => {
    await start({ idleTimeoutMs: 200 });
    const probe = await connect();
    probe.send({ type: 'session.configure', session: {} });
    const closed = await probe.closed;
    expect(closed.code).toBe(1000);
    expect(probe.ofType('error')).toHaveLength(0);
  });

  it('stays open while the client streams silence, then closes once it stops', async () => {
    await start({ idleTimeoutMs: 400 });
    const probe = await connect();
    probe.send({ type: 'session.configure', session: {} });
    await probe.waitFor('session.configured');
    let open = true;
    void probe.closed.then(() => (open = false));
    // keep-alive: 100 ms of silence every 100 ms for 1.2 s (3× the idle timeout)
    for (let tick = 0; tick < 12; tick++) {
      sendPcm(probe, silence16k(100), 100);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(open).toBe(true);
    }
    expect((await probe.closed).code).toBe(1000);
  });
});
