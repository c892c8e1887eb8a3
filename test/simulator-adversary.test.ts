/**
 * An adversarial client against the simulator, written with plain `ws` (no code of ours on the client
 * side): handshake abuse, frames the doc calls mistakes, oversize frames, a client that never reads,
 * floods and many sessions at once. The simulator answers as hydra-protocol.md (and §10) says, never
 * crashes or prints, and keeps serving everyone else; every frame it sends is valid AsyncAPI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/mock/server.js';
import { asyncapiProblems } from './support/asyncapi.js';

type Frame = Record<string, unknown> & { type?: string; error?: { code?: string; event_id?: string; param?: string } };

/** A raw client: every frame it got, a way to wait for one, and its close. */
type Client = {
  ws: WebSocket;
  frames: Frame[];
  send(frame: object | string): void;
  next(match: (frame: Frame) => boolean, after?: number): Promise<Frame>;
  closed: Promise<number>;
};

function open(url: string, query: Record<string, string> = { api_key: 'k' }): Promise<Client> {
  const target = new URL(url);
  for (const [key, value] of Object.entries(query)) target.searchParams.set(key, value);
  const ws = new WebSocket(target);
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as Frame);
    for (const waiter of [...waiters]) waiter();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const client: Client = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next: (match, after = 0) =>
      new Promise<Frame>((resolve, reject) => {
        const check = (): void => {
          const found = frames.slice(after).find(match);
          if (!found) return;
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        void closed.then(() => waiters.has(check) && reject(new Error('closed while waiting')));
        check();
      }),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_request, response) => reject(Object.assign(new Error('refused'), { status: response.statusCode })));
    ws.once('error', reject);
  });
}

const isType = (type: string) => (frame: Frame) => frame.type === type;
/** Everything the simulator answered to the frames sent since `count`, up to the marker's error. */
async function repliesSince(client: Client, count: number): Promise<Frame[]> {
  client.send('{"type":"marker.for.tests","event_id":"evt_marker"}');
  await client.next((frame) => frame.error?.event_id === 'evt_marker', count);
  return client.frames.slice(count, -1);
}

function tone16k(ms: number): Buffer {
  const pcm = Buffer.alloc(Math.round(ms * 16) * 2);
  for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000)), i * 2);
  return pcm;
}
/** One user turn: 1 s of tone, 800 ms of silence, as 40 ms appends. */
function speak(client: Client): void {
  const pcm = Buffer.concat([tone16k(1000), Buffer.alloc(800 * 32)]);
  for (let offset = 0; offset < pcm.length; offset += 1280) client.send({ type: 'input_audio_buffer.append', audio: pcm.subarray(offset, offset + 1280).toString('base64') });
}

async function configured(url: string, session: Record<string, unknown> = {}): Promise<Client> {
  const client = await open(url);
  client.send({ type: 'session.configure', session });
  await client.next(isType('session.configured'));
  return client;
}

// ── In-process simulator: every frame it sends is collected and checked against the AsyncAPI ─────

const sent: Frame[] = [];
const clients: Client[] = [];
let simulator: Simulator | undefined;

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  simulator = await createSimulator({ responseDelayMs: 5, realtimeFactor: 100, toolTimeoutMs: 200, ...options });
  simulator.on('server-frame', (_id, frame) => sent.push(frame as Frame));
  return simulator;
}
async function client(session?: Record<string, unknown>): Promise<Client> {
  const made = session === undefined ? await open(simulator!.url) : await configured(simulator!.url, session);
  clients.push(made);
  return made;
}

afterEach(async () => {
  for (const made of clients.splice(0)) made.ws.terminate();
  await simulator?.close();
  simulator = undefined;
});

describe('frames out of place', () => {
  it('before session.configured: response.create, session.update, item.create get an error each and change nothing; response.cancel is a no-op', async () => {
    await start();
    const raw = await client();
    await raw.next(isType('session.created'));
    const count = raw.frames.length;
    raw.send({ type: 'response.create', event_id: 'evt_1' });
    raw.send({ type: 'session.update', event_id: 'evt_2', session: { tools: [{ type: 'function', name: 'early' }] } });
    raw.send({ type: 'conversation.item.create', event_id: 'evt_3', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
    raw.send({ type: 'response.cancel', event_id: 'evt_4' });
    raw.send({ type: 'session.configure', session: {} });
    await raw.next(isType('session.configured'));
    const replies = await repliesSince(raw, count);
    expect(replies.map((frame) => [frame.type, frame.error?.code, frame.error?.event_id, frame.error?.param])).toEqual([
      ['error', 'invalid_request_error', 'evt_1', 'type'],
      ['error', 'invalid_request_error', 'evt_2', 'type'],
      ['error', 'invalid_request_error', 'evt_3', 'type'],
      ['session.configured', undefined, undefined, undefined],
    ]);
    expect(replies.at(-1)!.session).toMatchObject({ tools: [] }); // the early update was not applied
  });

  it('a second session.configure is ignored whatever it holds: a bad voice, a wrong type, an unknown envelope key, too deep', async () => {
    await start();
    const raw = await client({ voice: 'aria' });
    const count = raw.frames.length;
    raw.send({ type: 'session.configure', event_id: 'evt_a', session: { voice: 'nobody' } });
    raw.send({ type: 'session.configure', event_id: 'evt_b', session: { voice: 42, generate_initial_response: 'yes' } });
    raw.send({ type: 'session.configure', event_id: 'evt_c', session: {}, extra: true });
    raw.send(`{"type":"session.configure","event_id":"evt_d","session":{"tools":${'['.repeat(300)}${']'.repeat(300)}}}`);
    raw.send({ type: 'session.configure', session: { generate_initial_response: true } });
    expect(await repliesSince(raw, count)).toEqual([]);
  });

  it('documented mistakes after configure get the documented code, with the event_id echoed', async () => {
    await start();
    const raw = await client({});
    const cases: [object | string, string][] = [
      ['{"type":"session.update",', 'invalid_frame'], // not JSON
      [{ type: 'input_audio_buffer.commit', event_id: 'e' }, 'invalid_frame'], // no such event (§3.1: there is no commit)
      [{ event_id: 'e', audio: 'AAAA' }, 'invalid_request_error'], // no type
      [{ type: 'input_audio_buffer.append', event_id: 'e', audio: 7 }, 'invalid_request_error'], // wrong JSON type
      [{ type: 'input_audio_buffer.append', event_id: 'e' }, 'invalid_request_error'], // missing field
      [{ type: 'input_audio_buffer.append', event_id: 'e', audio: '' }, 'invalid_audio'], // empty audio
      [{ type: 'input_audio_buffer.append', event_id: 'e', audio: Buffer.alloc(641).toString('base64') }, 'invalid_audio'], // odd byte count
      [{ type: 'input_audio_buffer.append', event_id: 'e', audio: 'not*base64!' }, 'invalid_audio'],
      [{ type: 'session.update', event_id: 'e', session: { tools: [], turn_detection: {} } }, 'invalid_frame'], // §2.6 unknown key
      ['{"type":"response.create","event_id":"e","__proto__":{"x":1}}', 'invalid_frame'], // an unknown (own) key
      ['{"type":"__proto__","event_id":"e"}', 'invalid_frame'],
      [{ type: 'response.cancel', event_id: 'e', response_id: 5 }, 'invalid_request_error'],
    ];
    for (const [frame, code] of cases) {
      const count = raw.frames.length;
      raw.send(frame);
      const reply = await raw.next(() => true, count);
      expect([frame, reply.error?.code]).toEqual([frame, code]);
      if (typeof frame === 'object' || frame.includes('"e"')) expect(reply.error?.event_id).toBe('e');
    }
    // the binary frame of §1.3
    const count = raw.frames.length;
    raw.ws.send(Buffer.from([0, 1, 2, 3]), { binary: true });
    expect((await raw.next(() => true, count)).error?.code).toBe('invalid_frame');
    // no-ops: cancel when idle, outputs for unknown call ids, a second output for the same one
    const quiet = raw.frames.length;
    raw.send({ type: 'response.cancel' });
    raw.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_unknown', output: 'x' } });
    raw.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_unknown', output: 'y' } });
    expect(await repliesSince(raw, quiet)).toEqual([]);
    // and the session still works
    speak(raw);
    expect(await raw.next(isType('response.done'), quiet)).toMatchObject({ response: { status: 'completed' } });
  });

  it('tool outputs for a call already answered or timed out, response.create in flight, cancel: the turn structure holds', async () => {
    await start({ rules: [{ turn: 1, calls: [{ name: 'f', arguments: {} }] }, { turn: 2, calls: [{ name: 'f', arguments: {} }] }] });
    const raw = await client({ tools: [{ type: 'function', name: 'f' }] });
    speak(raw);
    const call = await raw.next(isType('response.function_call_arguments.done'));
    await raw.next(isType('response.done'));
    const output = { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.call_id, output: '"one"' } };
    raw.send(output);
    raw.send({ ...output, item: { ...output.item, output: '"two"' } }); // answered twice: the last one counts
    raw.send({ type: 'response.create' });
    raw.send({ type: 'response.create' }); // while the narration is in flight: queued once
    raw.send({ type: 'response.cancel' });
    await raw.next(() => raw.frames.filter(isType('response.done')).length === 3);
    const dones = raw.frames.filter(isType('response.done')).map((frame) => (frame.response as { status: string }).status);
    expect(dones).toEqual(['completed', 'cancelled', 'completed']);
    raw.send(output); // for a call whose turn is over: ignored
    speak(raw); // turn 2: a call left unanswered
    const timeout = await raw.next((frame) => frame.error?.code === 'tool_response_timeout');
    expect(timeout.error).toMatchObject({ code: 'tool_response_timeout' });
    expect(raw.frames.filter(isType('error'))).toHaveLength(1);
  });
});

describe('bounds', () => {
  it('a frame over 1 MiB is closed with 1009 before it is buffered; other sessions go on', async () => {
    await start();
    const other = await client({});
    const raw = await client({});
    raw.send({ type: 'input_audio_buffer.append', audio: Buffer.alloc(1024 * 1024).toString('base64') });
    expect(await raw.closed).toBe(1009);
    speak(other);
    expect(await other.next(isType('response.done'))).toMatchObject({ response: { status: 'completed' } });
  });

  it('a client that falls behind by more than 16 MiB for a moment (a burst on a loaded machine) is not dropped: it catches up', async () => {
    const sim = await start();
    const raw = await client({});
    let closed = false;
    sim.on('session-closed', () => (closed = true));
    const socket = (raw.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const text = 'x'.repeat(900 * 1024);
    // 12 items echoed twice: ~21 MB held unsent while the client is not reading.
    const echoed = new Promise<void>((resolve) => {
      let count = 0;
      sim.on('server-frame', (_id, frame) => (frame as Frame).type === 'conversation.item.done' && (count += 1) === 12 && resolve());
    });
    for (let i = 0; i < 12; i++) raw.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    await echoed;
    socket.resume();
    await raw.next(() => raw.frames.filter(isType('conversation.item.done')).length === 12);
    expect(closed).toBe(false);
    speak(raw);
    expect(await raw.next(isType('response.done'))).toMatchObject({ response: { status: 'completed' } });
  });

  it('a client that never reads is dropped once 64 MiB wait unsent (no unbounded buffering); others are served', async () => {
    const sim = await start();
    const raw = await client({});
    const closedOnServer = new Promise<number>((resolve) => sim.on('session-closed', (_id, code) => resolve(code)));
    (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stop reading, keep sending
    const text = 'x'.repeat(900 * 1024); // each message item is echoed twice (added + done): ~1.8 MB out per frame
    for (let i = 0; i < 60; i++) raw.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    expect(await closedOnServer).toBe(1006); // the transport dropped: a close frame would only queue behind the backlog
    const other = await client({});
    speak(other);
    expect(await other.next(isType('response.done'))).toMatchObject({ response: { status: 'completed' } });
  });

  it('60 sessions at once, next to a client flooding junk, are all answered', async () => {
    await start();
    const junk = await client({});
    for (let i = 0; i < 2000; i++) junk.send(i % 2 ? '{"type":"nope"}' : 'garbage');
    const many = await Promise.all(Array.from({ length: 60 }, () => client({})));
    for (const made of many) speak(made);
    const done = await Promise.all(many.map((made) => made.next(isType('response.done'))));
    expect(done.map((frame) => (frame.response as { status: string }).status)).toEqual(Array(60).fill('completed'));
    await junk.next(() => junk.frames.filter(isType('error')).length === 2000);
  });
});

describe('the upgrade (§1.1, §1.2, §10.1)', () => {
  it.each([
    [{ model: 'hydra-v9', api_key: 'right' }, 400],
    [{ model: 'HYDRA', api_key: 'right' }, 400],
    [{ model: 'hydra' }, 401],
    [{ model: 'hydra', api_key: '' }, 401],
    [{ model: 'hydra', api_key: 'wrong' }, 401],
  ])('%j → HTTP %i, no socket', async (query, status) => {
    await start({ apiKey: 'right' });
    await expect(open(simulator!.url, query)).rejects.toMatchObject({ status });
  });

  it('no model: hydra-v1.1 (24 kHz, sterling); a voice query parameter is not a protocol field and changes nothing', async () => {
    await start();
    const raw = await open(simulator!.url, { api_key: 'k', voice: 'reed' });
    clients.push(raw);
    raw.send({ type: 'session.configure', session: {} });
    const done = await raw.next(isType('session.configured'));
    expect(done.session).toMatchObject({ voice: 'sterling', output_audio_sample_rate: 24000 });
    expect(raw.frames.map((frame) => frame.type)).toEqual(['session.created', 'session.configured']);
  });
});

describe('ordinary sessions, for the schema check below', () => {
  it.each(['may-2026', 'aug-2026', 'aug-2026-probe'] as const)('%s: greeting, session.update, barge-in, a rejected voice, transcripts', async (profile) => {
    await start({ profile, transcripts: true, realtimeFactor: 2 });
    const raw = await open(simulator!.url, { api_key: 'k', model: 'hydra' });
    clients.push(raw);
    raw.send({ type: 'session.configure', event_id: 'evt_v', session: { voice: 'nobody', generate_initial_response: true } });
    await raw.next(isType('response.output_audio.delta'));
    raw.send({ type: 'session.update', session: { tools: [{ type: 'function', name: 'g', description: 'G', parameters: { type: 'object', properties: {} } }] } });
    await raw.next(isType('session.updated'));
    speak(raw); // barges in on the greeting
    const cancelled = await raw.next(isType('response.done'));
    expect(cancelled.response).toMatchObject({ status: 'cancelled', status_details: { reason: 'interrupted' } });
    await raw.next(() => raw.frames.filter(isType('response.created')).length === 2);
    expect(raw.frames.filter(isType('error')).length).toBe(profile === 'may-2026' ? 0 : 1);
  });
});

describe('everything the simulator sent above', () => {
  it('validates against the AsyncAPI payload schemas', () => {
    expect(sent.length).toBeGreaterThan(500);
    const types = new Set(sent.map((frame) => frame.type));
    expect([...types]).toEqual(
      expect.arrayContaining(['warning', 'error', 'session.updated', 'input_audio_buffer.speech_started', 'response.output_audio_transcript.delta', 'response.function_call_arguments.done', 'response.done']),
    );
    const invalid = sent.map((frame) => ({ type: frame.type, problem: asyncapiProblems(frame) })).filter((entry) => entry.problem !== '');
    expect(invalid).toEqual([]);
  });
});

// ── The stand-alone `hydra-chat simulate` process ─────────────────────────────────────────────────

describe('hydra-chat simulate under abuse', () => {
  let child: ChildProcess;
  let url: string;
  let output = '';

  beforeAll(async () => {
    child = spawn(process.execPath, ['bin/hydra-chat.js', 'simulate', '--port', '0', '--realtime-factor', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const found = /listening on (ws:\/\/\S+)/.exec(out);
        if (found) resolve(found[1]!);
        else if (out.includes('\n')) output += out;
      });
      child.once('close', () => reject(new Error(`simulate exited: ${output}`)));
    });
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await once(child, 'close');
    }
  });

  /** A raw HTTP upgrade with request target `target`; resolves with the status line. */
  function rawUpgrade(target: string): Promise<string> {
    const { port } = new URL(url);
    const socket = tcpConnect(Number(port), '127.0.0.1');
    socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    socket.on('error', () => undefined);
    return new Promise((resolve) => socket.on('close', () => resolve(reply.split('\r\n')[0] ?? '')));
  }

  it('request targets that are not URLs get HTTP 400; the process lives on', async () => {
    for (const target of ['//[', 'http://[x/waves/v1/s2s', '//[::1']) expect(await rawUpgrade(target)).toBe('HTTP/1.1 400 Bad Request');
    expect(await rawUpgrade('/waves/v1/s2s?api_key=%ZZ&model=%')).toBe('HTTP/1.1 400 Bad Request'); // unknown model '%'
    expect(child.exitCode).toBe(null);
  });

  it('after junk, oversize frames and abrupt resets it still serves a session, and printed nothing', async () => {
    const junk = await configured(url);
    for (const text of ['{', '[]', 'null', '{"type":1}', '{"type":"x".repeat(3)}', '\u0000']) junk.send(text);
    junk.ws.send(Buffer.alloc(64), { binary: true });
    junk.send('x'.repeat(2 * 1024 * 1024));
    expect(await junk.closed).toBe(1009);
    const reset = await open(url);
    reset.ws.terminate();
    const fresh = await configured(url, { voice: 'aria' });
    speak(fresh);
    expect(await fresh.next(isType('response.done'))).toMatchObject({ response: { status: 'completed' } });
    fresh.ws.terminate();
    expect(child.exitCode).toBe(null);
    expect(output).toBe('');
  });
});
