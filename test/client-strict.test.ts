/**
 * The real CLI against a strict, independent Hydra server (test/support/strict-server.ts, built from
 * hydra-protocol.md and the AsyncAPI spec only): every frame the client sends must follow the
 * documents, for a plain turn, a tool call, barge-in, a server close with reconnect, and quitting.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { cli, startCli } from './support/cli-process.js';
import { startStrictServer, type StrictOptions, type StrictServer } from './support/strict-server.js';
import { silence, tone, wavSizes, writeWav16k } from './fixtures/faults/harness.js';

const KEY = 'sk_strict_test_key_123456';
const ENV = { SMALLEST_API_KEY: KEY };
let dir: string;
let utterance: string;
const servers: StrictServer[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hydra-strict-'));
  utterance = join(dir, 'utterance.wav');
  writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(options: Partial<StrictOptions> = {}): Promise<StrictServer> {
  const s = await startStrictServer({ apiKey: KEY, ...options });
  servers.push(s);
  return s;
}

let outputs = 0;
const out = (): string => join(dir, `out-${(outputs += 1)}.wav`);

const nonAudio = (s: StrictServer, connection = 0): string[] =>
  s.connections[connection]!.received.filter((frame) => frame.type !== 'input_audio_buffer.append').map((frame) => String(frame.type));

describe('the strict server itself', () => {
  it('records what a careless client does (so that an empty list means something)', async () => {
    const s = await server();
    const socket = new WebSocket(`${s.url}?model=hydra-v1.1&api_key=${KEY}&sample_rate=16000`);
    await new Promise((resolve) => socket.once('message', resolve));
    const send = (frame: unknown): void => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    send({ type: 'input_audio_buffer.append', audio: Buffer.alloc(640).toString('base64') });
    send({ type: 'session.configure', event_id: 'e1', session: { voice: 'reed', temperature: 0.2 } });
    send({ type: 'session.configure', event_id: 'e1', session: {} });
    send({ type: 'input_audio_buffer.append', audio: 'AAA' });
    send({ type: 'input_audio_buffer.append', audio: Buffer.alloc(41).toString('base64') });
    send('{oops');
    socket.send(Buffer.from([1]), { binary: true });
    send({ type: 'response.create' });
    send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_x', output: {} } });
    for (let i = 0; i < 100; i += 1) send({ type: 'input_audio_buffer.append', audio: Buffer.alloc(640).toString('base64') }); // 2 s at once
    socket.close(4000);
    await s.closed(1);
    expect(s.violations.map((v) => v.replace(/^(upgrade|connection \d+): /, ''))).toEqual([
      'undocumented query parameter sample_rate',
      'input_audio_buffer.append before session.configure (§2.2: configure first)',
      'input_audio_buffer.append before session.configured (§2.2)',
      'session.configure carries undocumented keys /session/temperature',
      'voice reed is not on the hydra-v1.1 roster (§2.3)',
      'session.configure repeats event_id e1 (§1.3: unique)',
      'a second session.configure (§2.2: once)',
      'audio is not valid base64 (§6.2 invalid_audio)',
      'audio frame of 41 bytes is not whole PCM16 samples',
      'audio frame of 41 bytes (10–40 ms is 320–1280, §3.1)',
      'a frame that is not JSON',
      'a binary frame (§1.3: JSON text only)',
      'response.create outside a tool turn, or a second one in a turn (§5.4)',
      'conversation.item.create fails the schema: /item/output must be string',
      'function_call_output without a string output (§5.4)',
      'an output for call_x, which is not an open call',
      'audio more than 1500 ms ahead of real time (§3.1: pace at real time)',
    ]);
    expect(s.closes).toEqual([4000]);
  });
});

describe('the CLI against a strict server: no frame breaks the protocol', () => {
  it('a plain turn: exit 0, one configure then audio only, close 1000, a valid WAV of the reply', async () => {
    const s = await server();
    const output = out();
    const run = await cli(['--url', s.url, '--input', utterance, '--output', output], ENV);
    expect(run.code, run.stderr).toBe(0);
    await s.closed(1);
    expect(s.violations).toEqual([]);
    expect(nonAudio(s)).toEqual(['session.configure']);
    expect(s.closes).toEqual([1000]);
    expect(wavSizes(output)).toMatchObject({ dataBytes: 400 * 96, sampleRate: 48000 });
  });

  it('a tool turn with two calls: one output each, then one debounced response.create', async () => {
    const tools = join(dir, 'tools.json');
    writeFileSync(
      tools,
      JSON.stringify({
        instructions: 'Use tools.',
        tools: [
          { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, result: { temp_c: 12 } },
          { name: 'get_time', parameters: { type: 'object', properties: {} }, command: ['node', '-e', 'console.log(JSON.stringify({time: "12:00"}))'] },
        ],
      }),
    );
    const s = await server({ plan: () => ({ kind: 'tool', calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_time', arguments: {} }] }) });
    const run = await cli(['--url', s.url, '--tools', tools, '--input', utterance, '--output', out()], ENV);
    expect(run.code, run.stderr).toBe(0);
    await s.closed(1);
    expect(s.violations).toEqual([]);
    expect(nonAudio(s)).toEqual(['session.configure', 'conversation.item.create', 'conversation.item.create', 'response.create']);
    expect(run.stdout).toMatch(/replying after tools/);
  });

  it('barge-in: playback stops, nothing but audio is sent (the server cancels, §3.5), the next turn is answered', async () => {
    const wav = join(dir, 'barge.wav');
    writeWav16k(wav, Buffer.concat([silence(200), tone(600), silence(900), tone(600), silence(1000)]));
    const s = await server({ plan: (turn) => (turn === 0 ? { kind: 'reply', ms: 4000, paced: true } : { kind: 'reply', ms: 300 }) });
    const output = out();
    const run = await cli(['--url', s.url, '--input', wav, '--output', output], ENV);
    expect(run.code, run.stderr).toBe(0);
    await s.closed(1);
    expect(s.violations).toEqual([]);
    expect(nonAudio(s)).toEqual(['session.configure']);
    expect(run.stdout).toMatch(/you interrupted \(barge-in\)/);
    expect(run.stdout).toMatch(/summary · .* · 2 turns · .* · 1 interruption/);
    const { dataBytes } = wavSizes(output);
    expect(dataBytes).toBeGreaterThan(300 * 96); // part of the cut reply, and all of the second
    expect(dataBytes).toBeLessThan(4300 * 96);
  });

  it('a server-initiated close mid-turn: reconnects with the same session.configure and speaks the turn again', async () => {
    const s = await server({ hooks: { speechStarted: (conn) => conn.index === 0 && conn.socket.close(1011, 'internal') } });
    const run = await cli(['--url', s.url, '--input', utterance, '--output', out()], ENV);
    expect(run.code, run.stderr).toBe(0);
    await s.closed(2);
    expect(s.violations).toEqual([]); // includes "the same configure" and "no audio ahead of real time"
    expect(s.connections).toHaveLength(2);
    expect(s.closes).toEqual([1011, 1000]);
    expect(nonAudio(s, 1)).toEqual(['session.configure']);
  });

  it('Ctrl-C: exit 0, the socket closed with 1000, an end event', async () => {
    const long = join(dir, 'long.wav');
    writeWav16k(long, Buffer.concat([silence(200), tone(600), silence(5000)]));
    const s = await server();
    const run = startCli(['--json', '--url', s.url, '--input', long, '--output', out()], ENV);
    await run.waitFor((line) => line.event === 'turn');
    run.child.kill('SIGINT');
    expect(await run.exited, run.stderr()).toBe(0);
    await s.closed(1);
    expect(s.violations).toEqual([]);
    expect(s.closes).toEqual([1000]);
    expect(run.lines.at(-1)).toMatchObject({ event: 'end', reason: 'user-quit' });
  });

  it.each([[['--greet']], [['--voice', 'reed']], [['--voice', 'sterling']], [['--voice', 'aria', '--frame-ms', '40']], [['--model', 'hydra', '--prompt', 'Sé breve 🙂 "quoted" \\ back']]])(
    '%j: the configure and the audio follow the documents',
    async (args) => {
      const s = await server();
      const run = await cli(['--url', s.url, '--input', utterance, '--output', out(), ...args], ENV);
      expect(run.code, run.stderr).toBe(0);
      await s.closed(1);
      expect(s.violations).toEqual([]);
    },
  );
});
