/**
 * The real CLI against a hostile Hydra server (test/support/strict-server.ts with hooks): whatever the
 * server does, the run ends by itself within its documented timeouts, with one clear line, the README's
 * exit code, no stack trace, the key never printed, a valid --output WAV, and no frame of ours that
 * breaks the protocol.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClockSink } from '../src/audio/clock-sink.js';
import { pcmSource } from '../src/audio/file-source.js';
import { startChat, type ChatEvent } from '../src/chat.js';
import { connect, MAX_PENDING_FRAMES, type Inbound } from '../src/connection.js';
import { cli, type Run } from './support/cli-process.js';
import { startStrictServer, type StrictConnection, type StrictOptions, type StrictServer } from './support/strict-server.js';
import { silence, tone, wavSizes, writeWav16k } from './fixtures/faults/harness.js';

const KEY = 'sk_hostile_test_key_98765';
const ENV = { SMALLEST_API_KEY: KEY };
let dir: string;
let utterance: string;
const servers: StrictServer[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hydra-hostile-'));
  utterance = join(dir, 'utterance.wav');
  writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

let outputs = 0;

/** Runs the CLI on `utterance` against a strict server with `options`; checks what every run must hold. */
async function against(options: Partial<StrictOptions>, extra: string[] = [], timeoutMs = 20_000): Promise<Run & { server: StrictServer; output: string }> {
  const server = await startStrictServer({ apiKey: KEY, ...options });
  servers.push(server);
  const output = join(dir, `out-${(outputs += 1)}.wav`);
  const run = await cli(['--url', server.url, '--input', utterance, '--output', output, ...extra], ENV, timeoutMs);
  expect(server.violations, server.violations.join('\n')).toEqual([]);
  expect(run.stdout + run.stderr).not.toContain(KEY);
  expect(run.stdout + run.stderr).not.toMatch(/\n\s+at |Error:/);
  return { ...run, server, output };
}

const delta = (responseId: string, bytes = 960): Record<string, unknown> => ({
  type: 'response.output_audio.delta',
  response_id: responseId,
  item_id: 'item_a1',
  output_index: 0,
  content_index: 0,
  delta: Buffer.alloc(bytes, 1).toString('base64'),
});
const custom = (run: (conn: StrictConnection) => void): StrictOptions['plan'] => () => ({ kind: 'custom', run });

describe('a server that stops answering (no close)', () => {
  it('mid-reply, after some audio: exit 19 within --reply-timeout, one line, the audio so far in a valid WAV', async () => {
    const run = await against(
      { plan: custom((conn) => (conn.send({ type: 'response.created', response: { id: 'resp_r1' } }), conn.send(delta('resp_r1')))) },
      ['--reply-timeout', '1'],
    );
    expect(run.code, run.stdout).toBe(19);
    expect(run.stderr).toMatch(/^error: the reply stopped: nothing from the server for 1 s in the middle of a response \(turn in \S+utterance\.wav\)$/m);
    expect(wavSizes(run.output)).toMatchObject({ dataBytes: 960, riffBytes: 36 + 960, sampleRate: 48000 });
  });

  it('mid-way through a tool call\'s arguments: exit 19 within --reply-timeout', async () => {
    const run = await against(
      {
        plan: custom((conn) => {
          conn.send({ type: 'response.created', response: { id: 'resp_r1' } });
          conn.send({ type: 'response.function_call_arguments.delta', response_id: 'resp_r1', call_id: 'call_1', name: 'get_weather', delta: '{"ci' });
        }),
      },
      ['--reply-timeout', '1'],
    );
    expect(run.code, run.stdout).toBe(19);
    expect(run.stderr).toMatch(/^error: the reply stopped: nothing from the server for 1 s in the middle of a response/m);
  });
});

describe('a server that waits for our tool is not a stalled server', () => {
  it('the tool-calling response stays open while a tool runs longer than --reply-timeout: the turn completes, exit 0', async () => {
    const tools = join(dir, 'slow-tool.json');
    writeFileSync(tools, JSON.stringify({ tools: [{ name: 'slow', parameters: { type: 'object', properties: {} }, command: ['node', '-e', 'setTimeout(() => console.log("{}"), 1800)'] }] }));
    const run = await against({ plan: () => ({ kind: 'tool', calls: [{ name: 'slow', arguments: {} }], doneLate: true }) }, ['--tools', tools, '--reply-timeout', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/replying after tools/);
  });
});

describe('a server that stops mid-reply in live chat (the engine, a microphone-like source)', () => {
  it('a warning after --reply-timeout, and the chat goes on', async () => {
    const server = await startStrictServer({
      apiKey: KEY,
      plan: custom((conn) => (conn.send({ type: 'response.created', response: { id: 'resp_r1' } }), conn.send(delta('resp_r1')))),
    });
    servers.push(server);
    const file = pcmSource(Buffer.concat([silence(200), tone(600), silence(600)]), { frameMs: 20 });
    const controller = new AbortController();
    let warned!: (note: unknown) => void;
    const warning = new Promise((resolve) => (warned = resolve));
    const chat = startChat({
      url: server.url,
      model: 'hydra',
      apiKey: KEY,
      session: {},
      // Not replayable: the shell treats it as a live microphone (no --input verdicts).
      source: { frameMs: file.frameMs, start: (onFrame, onError) => file.start(onFrame, onError), close: () => file.close() },
      openSink: async (rate) => createClockSink(rate),
      replyTimeoutMs: 300,
      observe: (event: ChatEvent) => {
        if (event.type === 'note' && event.note.kind === 'warning' && event.note.code === 'reply-stalled') warned(event.note);
      },
      signal: AbortSignal.any([controller.signal, AbortSignal.timeout(10_000)]),
    });
    expect(await warning).toMatchObject({ message: 'the reply stopped: nothing from the server for 0.3 s in the middle of a response; still listening' });
    expect(chat.state()?.configured).toBe(true);
    controller.abort();
    expect((await chat.done).reason).toBe('user-quit');
    expect(server.violations).toEqual([]);
  });
});

describe('a reply with no audio is not an answer (--input)', () => {
  it.each([
    ['failed', { status: 'failed', status_details: { error: { code: 'internal_error', type: 'server_error' } } }, 'failed'],
    ['incomplete', { status: 'incomplete', status_details: { reason: 'content_filter' } }, 'incomplete'],
    ['completed with no audio', { status: 'completed' }, 'completed'],
  ])('every response %s: exit 19, one line naming how it ended', async (_name, done, status) => {
    const run = await against({
      plan: custom((conn) => {
        conn.send({ type: 'response.created', response: { id: 'resp_r1' } });
        conn.send({ type: 'response.done', response: { id: 'resp_r1', ...done } });
      }),
    });
    expect(run.code, run.stdout).toBe(19);
    expect(run.stderr).toMatch(new RegExp(`^error: the server heard a turn in \\S+utterance\\.wav but no reply carried audio \\(the last response ended ${status}\\)$`, 'm'));
  });
});

describe('a server that hears speech start and never its end', () => {
  it('speech_started, then nothing: exit 19 once the input, its trailing silence and --reply-timeout have passed', async () => {
    const run = await against({ hooks: { speechStarted: (conn) => conn.mute() } }, ['--reply-timeout', '1', '--trailing-silence', '500']);
    expect(run.code, run.stdout).toBe(19);
    expect(run.stderr).toMatch(/^error: the server heard speech in \S+utterance\.wav but never ended the turn \(no speech_stopped within 1 s after the input ended\)$/m);
  });
});

describe('server text cannot forge lines', () => {
  it('newlines in an error, an event type, an id, a tool name and a close reason stay inside their one line', async () => {
    // A hostile server's attempt to print a line of its own choosing (after escape sequences and a CR).
    const forged = 'a\u001b[31m\r\nerror: forged\nhydra  ▸ forged';
    const run = await against(
      {
        hooks: {
          configure: (conn) =>
            void setImmediate(() => {
              conn.send({ type: 'error', error: { type: 'invalid_request_error', code: `c${forged}`, message: `m${forged}`, param: `p${forged}` } });
              conn.send({ type: `x.${forged}` });
              conn.send({ type: 'response.done', response: { id: `r${forged}`, status: 'completed' } });
            }),
        },
        plan: (turn) => (turn === 0 ? { kind: 'tool', calls: [{ name: `t${forged}`, arguments: {} }] } : { kind: 'reply' }),
      },
      [],
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = (run.stdout + run.stderr).split('\n');
    expect(lines.filter((line) => /^(error: forged|hydra {2}▸ forged)/.test(line))).toEqual([]);
    expect(lines.filter((line) => /forged/.test(line)).length).toBeGreaterThanOrEqual(4); // shown, but inside their own lines
  });

  it('a close reason with a newline: the error is one line', async () => {
    const run = await against({ hooks: { speechStarted: (conn) => conn.socket.close(4001, 'going\nerror: forged') } }, ['--max-retries', '0']);
    expect(run.code).toBe(9);
    expect(run.stderr).toBe('error: the server closed the connection (code 4001: going error: forged)\n');
  });
});

describe('broken frames: each noted once, the conversation goes on (exit 0, the reply in the WAV)', () => {
  it('non-JSON, binary, non-object, unknown types, missing and wrong-typed fields', async () => {
    const run = await against({
      hooks: {
        configure: (conn) =>
          void setImmediate(() => {
            for (const text of ['not json', '[]', 'null', '"text"', '{"type":5}', '{"no":"type"}']) conn.raw(text);
            conn.raw(Buffer.from([0xde, 0xad]), true);
            conn.send({ type: 'x.future_event', payload: {} });
            conn.send({ type: 'response.output_audio.delta' });
            conn.send({ type: 'response.created', response: { id: 5 } });
            conn.send({ type: 'session.created' });
            conn.send({ type: 'error' });
          }),
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^note: ignored a malformed frame: not valid JSON$/m);
    expect(run.stdout).toMatch(/^note: ignored an unknown event type "x\.future_event"$/m);
    expect(run.stdout).toMatch(/^note: ignored a malformed frame \(response\.created\): response\.id: expected string, received number$/m);
    expect(run.stdout).toMatch(/summary · .* · 1 turn ·/);
    expect(wavSizes(run.output).dataBytes).toBe(400 * 96);
  });

  it('audio deltas with invalid base64 or an odd byte count are dropped; the good ones are kept', async () => {
    const run = await against({
      plan: custom((conn) => {
        conn.send({ type: 'response.created', response: { id: 'resp_r1' } });
        conn.send({ ...delta('resp_r1'), delta: '!!!!' });
        conn.send(delta('resp_r1', 3));
        conn.send(delta('resp_r1', 960));
        conn.send({ type: 'response.done', response: { id: 'resp_r1', status: 'completed' } });
      }),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^note: dropped an audio delta: invalid base64$/m);
    expect(run.stdout).toMatch(/^note: dropped an audio delta: odd number of PCM16 bytes \(3\)$/m);
    expect(wavSizes(run.output)).toMatchObject({ dataBytes: 960, riffBytes: 36 + 960 });
  });

  it('a flood of 20 000 tiny deltas: all of them kept, in order, and the run ends', async () => {
    const run = await against({
      plan: custom((conn) => {
        conn.send({ type: 'response.created', response: { id: 'resp_r1' } });
        for (let i = 0; i < 20_000; i += 1) conn.send(delta('resp_r1', 4));
        conn.send({ type: 'response.done', response: { id: 'resp_r1', status: 'completed' } });
      }),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(wavSizes(run.output).dataBytes).toBe(80_000);
  });

  it('duplicate and out-of-order response ids: noted, the current response plays, late audio is dropped', async () => {
    const run = await against({
      plan: custom((conn) => {
        conn.send({ type: 'response.done', response: { id: 'resp_r0', status: 'completed' } }); // done before created
        conn.send({ type: 'response.created', response: { id: 'resp_r1' } });
        conn.send(delta('resp_r1'));
        conn.send({ type: 'response.created', response: { id: 'resp_r1' } }); // duplicate
        conn.send({ type: 'response.created', response: { id: 'resp_r2' } });
        conn.send(delta('resp_r1')); // late
        conn.send(delta('resp_r2'));
        conn.send({ type: 'response.done', response: { id: 'resp_r1', status: 'completed' } });
        conn.send({ type: 'response.done', response: { id: 'resp_r2', status: 'completed' } });
        conn.send({ type: 'response.done', response: { id: 'resp_r2', status: 'completed' } }); // duplicate
      }),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/response resp_r0 never started/);
    expect(run.stdout).toMatch(/response resp_r1 had already started/);
    expect(run.stdout).toMatch(/dropped late audio of response resp_r1/);
    expect(run.stdout).toMatch(/response resp_r2 had already ended/);
    expect(wavSizes(run.output).dataBytes).toBe(2 * 960);
  });
});

describe('a frame over 16 MB (the real CLI)', () => {
  it('closes the socket (1009) to bound memory, reconnects, says the turn again, and the answer is in the WAV', async () => {
    const run = await against({
      plan: (_turn, connection) =>
        connection === 0
          ? { kind: 'custom', run: (conn) => (conn.send({ type: 'response.created', response: { id: 'resp_r1' } }), conn.raw(JSON.stringify(delta('resp_r1', 13 * 1024 * 1024)))) }
          : { kind: 'reply' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^a frame larger than 16 MB arrived; the connection was closed to protect memory · retrying in/m);
    expect(run.server.closes[0]).toBe(1009);
    expect(wavSizes(run.output).dataBytes).toBe(400 * 96);
  });
});

describe('a frame that breaks the WebSocket protocol (the real CLI)', () => {
  it.each([
    ['invalid UTF-8 in a text frame', (conn: StrictConnection) => conn.raw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), /^the server sent a broken WebSocket frame \(invalid UTF-8 sequence\); hydra-chat closed the connection · retrying in/m, 1007],
    // A frame with a reserved opcode (3), written under ws's framing straight onto the TCP socket.
    ['a reserved opcode', (conn: StrictConnection) => void (conn.socket as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x83, 0x00])), /^the server sent a broken WebSocket frame \(invalid opcode 3\); hydra-chat closed the connection · retrying in/m, 1002],
  ])('%s: named (not "the connection dropped"), reconnects, the answer is in the WAV', async (_what, send, line, code) => {
    const run = await against({
      plan: (_turn, connection) => (connection === 0 ? { kind: 'custom', run: send } : { kind: 'reply' }),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(line);
    expect(run.stdout).not.toMatch(/the connection dropped/);
    expect(run.server.closes[0]).toBe(code);
    expect(wavSizes(run.output).dataBytes).toBe(400 * 96);
  });
});

describe('a session that closes while the speaker opens (the engine)', () => {
  it('its session.configured goes with it: nothing runs after the chat has ended, and the late speaker is closed', async () => {
    // session.configured, then a close at once: the speaker (slow to open here) is still opening.
    const server = await startStrictServer({ apiKey: KEY, hooks: { configure: (conn) => void setImmediate(() => conn.socket.close(1011, 'bye')) } });
    servers.push(server);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let sinkClosed!: () => void;
    const closed = new Promise<void>((resolve) => (sinkClosed = resolve));
    let ended = false;
    const late: ChatEvent[] = [];
    const chat = startChat({
      url: server.url,
      model: 'hydra',
      apiKey: KEY,
      session: {},
      source: pcmSource(silence(2000), { frameMs: 20 }),
      openSink: async (rate) => {
        await released;
        const sink = createClockSink(rate);
        const close = sink.close.bind(sink);
        sink.close = () => (sinkClosed(), close());
        return sink;
      },
      maxRetries: 0,
      observe: (event: ChatEvent) => void (ended && late.push(event)),
      signal: AbortSignal.timeout(10_000),
    });
    const outcome = await chat.done;
    ended = true;
    expect(outcome.reason).toBe('error');
    release();
    await closed;
    expect(late).toEqual([]);
  });
});

describe('a session that closes while the speaker opens, then a new one (the engine)', () => {
  it('the next session runs on its own frames only, not on the dead one\'s (queued behind the speaker)', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let configures = 0;
    const server = await startStrictServer({
      apiKey: KEY,
      hooks: {
        // The first session starts a response and closes right after session.configured; the speaker opens
        // once the second is configured.
        configure: (conn) =>
          void setImmediate(() => {
            if ((configures += 1) > 1) return release();
            conn.send({ type: 'response.created', response: { id: 'resp_dead' } });
            conn.socket.close(1011, 'bye');
          }),
      },
    });
    servers.push(server);
    const notes: string[] = [];
    const chat = startChat({
      url: server.url,
      model: 'hydra',
      apiKey: KEY,
      session: {},
      source: pcmSource(silence(600), { frameMs: 20 }),
      openSink: async (rate) => (await released, createClockSink(rate)),
      maxRetries: 1,
      endAfterInput: { inputEnded: Promise.resolve(), trailingSilenceMs: 200 },
      observe: (event: ChatEvent) => void (event.type === 'note' && notes.push(JSON.stringify(event.note))),
      signal: AbortSignal.timeout(10_000),
    });
    await chat.done;
    expect(server.connections).toHaveLength(2);
    expect(notes.filter((note) => note.includes('"kind":"configured"'))).toHaveLength(1);
    expect(notes.join('\n')).not.toContain('resp_dead');
  });
});

describe('a new session that announces another output rate', () => {
  it('the reply after a reconnect is converted to the rate --output was opened at: the WAV stays one rate', async () => {
    const two = join(dir, 'two-turns.wav');
    writeWav16k(two, Buffer.concat([silence(200), tone(600), silence(1200), tone(600), silence(1200)]));
    let starts = 0;
    const server = await startStrictServer({
      apiKey: KEY,
      outputRate: (connection) => (connection === 0 ? 48_000 : 24_000),
      // The first session answers turn 1 and drops as turn 2 starts; the second answers turn 2 at 24 kHz.
      hooks: { speechStarted: (conn) => void ((starts += 1) === 2 && conn.socket.close(1011)) },
    });
    servers.push(server);
    const output = join(dir, `out-${(outputs += 1)}.wav`);
    const run = await cli(['--url', server.url, '--input', two, '--output', output], ENV);
    expect(run.code, run.stderr).toBe(0);
    expect(server.violations).toEqual([]);
    expect(server.connections).toHaveLength(2);
    const wav = wavSizes(output);
    expect(wav.sampleRate).toBe(48_000);
    // 400 ms at 48 kHz from each session (the second's 24 kHz reply converted), within a few ms of filter delay.
    expect(Math.abs(wav.dataBytes - 2 * 400 * 96)).toBeLessThan(20 * 96);
  });
});

describe('error events: every documented code (and an unknown one) is one line and not fatal without a close', () => {
  it('invalid_frame, invalid_request_error, invalid_audio, tool_response_timeout, internal_error, session_ended, server_full, made_up', async () => {
    const codes = ['invalid_frame', 'invalid_request_error', 'invalid_audio', 'tool_response_timeout', 'internal_error', 'session_ended', 'server_full', 'made_up'];
    const run = await against({
      hooks: {
        configure: (conn) =>
          void setImmediate(() => {
            for (const code of codes) conn.send({ type: 'error', error: { type: 'invalid_request_error', code, message: `about ${code} (key ${KEY})` } });
          }),
      },
    });
    expect(run.code, run.stderr).toBe(0);
    for (const code of codes) expect(run.stdout.match(new RegExp(`^server error: .*about ${code} \\(key \\*\\*\\*\\) \\(${code}\\)$`, 'gm'))).toHaveLength(1);
    expect(run.stdout).toMatch(/summary · .* · 1 turn ·/);
  });
});

describe('closes: each code gets its documented exit (README), retried as §1.7 says', () => {
  it.each([
    [1000, 18, 1, /^error: the server heard no speech in /m],
    [1001, 9, 2, /^error: the server closed the connection \(code 1001: bye\)$/m],
    [1008, 9, 2, /^error: the server closed the connection \(code 1008: bye\)$/m],
    [1011, 9, 2, /^error: the server closed the connection \(code 1011: bye\)$/m],
    [1013, 7, 2, /^error: Hydra is at capacity \(server_full\)$/m],
    [1009, 9, 1, /^error: the server closed the connection \(1009 message too big\)/m],
    [4000, 9, 2, /^error: the server closed the connection \(code 4000: bye\)$/m],
  ])('close %i as the user starts speaking: exit %i after %i connection(s)', async (code, exit, connections, line) => {
    const run = await against({ hooks: { speechStarted: (conn) => conn.socket.close(code, 'bye') } }, ['--max-retries', '1']);
    expect(run.code, run.stdout).toBe(exit);
    expect(run.stderr).toMatch(line);
    expect(run.server.connections).toHaveLength(connections);
  });

  it('a server_full error that no 1013 follows, then a normal close (1000) after the reply: the session simply ended, exit 0', async () => {
    const run = await against({
      hooks: { configure: (conn) => void setImmediate(() => conn.send({ type: 'error', error: { type: 'server_error', code: 'server_full', message: 'busy' } })) },
      plan: custom((conn) => void conn.reply(400).then(() => conn.socket.close(1000))),
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.server.connections).toHaveLength(1);
    expect(run.stdout).not.toMatch(/retrying/);
  });

  it('a close during a tool call: the dead session\'s result is not sent; the new session runs the call and answers', async () => {
    const run = await against({
      plan: (_turn, connection) =>
        connection === 0
          ? { kind: 'custom', run: (conn) => {
              conn.send({ type: 'response.created', response: { id: 'resp_r1' } });
              conn.send({ type: 'response.function_call_arguments.done', response_id: 'resp_r1', call_id: 'call_dead', name: 'get_time', arguments: '{}' });
              conn.send({ type: 'response.done', response: { id: 'resp_r1', status: 'completed' } });
              conn.socket.close(1011);
            } }
          : { kind: 'tool', calls: [{ name: 'get_time', arguments: {} }] },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.server.connections).toHaveLength(2);
    expect(run.server.connections[1]!.received.filter((frame) => frame.type === 'conversation.item.create')).toHaveLength(1);
    expect(JSON.stringify(run.server.connections[1]!.received)).not.toContain('call_dead');
  });
});

describe('a server that accepts the socket and then says nothing', () => {
  it('no session.created: exit 9 after the 10 s handshake timeout, one line', async () => {
    const run = await against({ hooks: { open: () => true } });
    expect(run.code).toBe(9);
    expect(run.stderr).toBe('error: no usable session.created within 10 s\n');
  }, 20_000);
});

describe('before session.created (the connection, in process)', () => {
  const open = async (hook: (conn: StrictConnection) => void): Promise<StrictServer> => {
    const server = await startStrictServer({ apiKey: KEY, hooks: { open: (conn) => (hook(conn), true) } });
    servers.push(server);
    return server;
  };

  it('a flood of frames is not kept: at most MAX_PENDING_FRAMES, then session.created', async () => {
    const server = await open((conn) => {
      for (let i = 0; i < 500; i += 1) conn.send({ type: 'x.early', pad: 'x'.repeat(10_000) });
      conn.send({ type: 'session.created', session_id: 'sess_1' });
    });
    const connection = await connect({ url: server.url, model: 'hydra', apiKey: KEY, signal: AbortSignal.timeout(10_000) });
    const frames: Inbound[] = [];
    connection.onFrame((frame) => frames.push(frame));
    await connection.close();
    expect(connection.sessionId).toBe('sess_1');
    expect(frames.length).toBeLessThanOrEqual(MAX_PENDING_FRAMES + 1);
    expect(frames.at(-1)!.decoded).toMatchObject({ kind: 'event', event: { type: 'session.created' } });
  });

  it('a malformed session.created: the timeout says so', async () => {
    const server = await open((conn) => conn.send({ type: 'session.created', session_id: 42 }));
    await expect(connect({ url: server.url, model: 'hydra', apiKey: KEY, handshakeTimeoutMs: 300 })).rejects.toThrow(
      'no usable session.created within 0.3 s (its session.created was malformed: session_id: expected string, received number)',
    );
  });
});
