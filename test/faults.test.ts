/**
 * The fault matrix (issue 7): each row is a test of what the user sees, what is kept and how the
 * client recovers. The engine rows run the real client (startChat) against the real simulator in
 * process; the CLI rows run the built binary (`npm run build` first) against an in-process simulator
 * with --url and read its NDJSON / stderr. Nothing sleeps: every step waits on an event.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { pcmSource } from '../src/audio/file-source.js';
import { createClockSink } from '../src/audio/clock-sink.js';
import { tapStage } from '../src/audio/pipeline/stages.js';
import { startChat, type ChatEvent, type ChatOptions, type ToolRunner } from '../src/chat.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/mock/server.js';
import { createToolRunner, validateAgentConfig } from '../src/tools/index.js';
import { cli, startCli, type JsonLine } from './support/cli-process.js';
import {
  anomaliesOf,
  isNote,
  isStatus,
  Log,
  notesOf,
  scriptedSource,
  silence,
  simLog,
  tone,
  wavSizes,
  writeWav16k,
  type ScriptedSource,
} from './fixtures/faults/harness.js';

let dir: string;
let utterance: string;
const simulators: Simulator[] = [];
const servers: Server[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hydra-faults-'));
  utterance = join(dir, 'utterance.wav');
  writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, profile: 'aug-2026', ...options });
  simulators.push(sim);
  return sim;
}

const WEATHER: ToolRunner['declarations'] = () => [
  { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
];

/** A running engine over a scripted microphone; `events` can be waited on. */
function engine(sim: Simulator, extra: Partial<ChatOptions> = {}, source: ScriptedSource = scriptedSource({ speed: 2 })) {
  const events = new Log<ChatEvent>();
  const controller = new AbortController();
  const chat = startChat({
    url: sim.url,
    model: 'hydra',
    apiKey: 'test-key',
    session: { instructions: 'Be brief.', voice: 'reed', generate_initial_response: false },
    source,
    openSink: async (rate) => createClockSink(rate),
    observe: events.push,
    signal: AbortSignal.any([controller.signal, AbortSignal.timeout(25_000)]),
    maxRetries: 4,
    ...extra,
  });
  return { chat, events, source, quit: () => controller.abort() };
}

const turnSpeech = (): Buffer => Buffer.concat([tone(500), silence(800)]);

describe('fault matrix: the socket drops', () => {
  it('mid-reply: says so, reconnects with backoff, reconfigures the same agent, keeps the recording going', async () => {
    const sim = await simulator({ faults: { dropAfterDeltas: 2 }, realtimeFactor: 2 });
    const log = simLog(sim);
    const sent: number[] = [];
    const heard: number[] = [];
    const run = engine(sim, {
      tools: { declarations: WEATHER, run: async () => ({ ok: true, output: '{}', durationMs: 0 }) },
      onSentFrame: (_pcm, _c, at) => sent.push(at),
      micStages: [tapStage('test-recorder', () => heard.push(performance.now()))],
    });
    await run.events.waitFor(isNote('configured'), 'configured');
    void run.source.say(turnSpeech());
    const retry = await run.events.waitFor(isStatus('retrying'), 'retrying');
    const droppedAt = performance.now();
    const connected = await run.events.waitFor((e) => isStatus('connected')(e), 'second connected', 15_000, run.events.items.indexOf(retry));
    const reconnectedAt = performance.now();
    await run.events.waitFor(isNote('configured'), 'configured again', 15_000, run.events.items.indexOf(connected));
    run.quit();
    const outcome = await run.chat.done;

    expect(outcome.reason).toBe('user-quit');
    // What the user sees: the drop and the countdown, with a first wait of at most 1 s (§1.7, reset after a session that ran).
    expect(retry.type === 'connection' && retry.detail).toMatchObject({ status: 'retrying', why: 'dropped', attempt: 1 });
    const detail = retry.type === 'connection' && retry.detail.status === 'retrying' ? retry.detail : null;
    expect(detail!.inMs).toBeGreaterThanOrEqual(100);
    expect(detail!.inMs).toBeLessThanOrEqual(1000);
    expect(detail!.error.message).toMatch(/dropped/);
    // Same agent: the second session.configure is identical to the first (instructions, voice, tools).
    const configures = log.client('session.configure');
    expect(configures).toHaveLength(2);
    expect(configures[0]!.sessionId).not.toBe(configures[1]!.sessionId);
    const strip = (f: Record<string, unknown>) => (f as { session: unknown }).session;
    expect(strip(configures[1]!.frame)).toEqual(strip(configures[0]!.frame));
    expect(strip(configures[0]!.frame)).toMatchObject({ instructions: 'Be brief.', voice: 'reed', tools: [{ name: 'get_weather' }] });
    // The microphone (and so --record, a tap stage) kept running through the gap; nothing counted as sent in it.
    expect(heard.some((at) => at > droppedAt && at < reconnectedAt)).toBe(true);
    expect(sent.some((at) => at > droppedAt && at < reconnectedAt)).toBe(false);
  });

  it('mid-tool-call: the result of the dead session is discarded, never sent to the new one', async () => {
    const sim = await simulator({ rules: [{ turn: 1, calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }] });
    const log = simLog(sim);
    const started = new Log<string>();
    let finish!: () => void;
    const released = new Promise<void>((resolve) => (finish = resolve));
    const tools: ToolRunner = {
      declarations: WEATHER,
      // Ignores its abort signal on purpose: the shell must drop the late answer itself.
      run: async (_name, _args, { callId }) => {
        started.push(callId);
        await released;
        return { ok: true, output: '{"temp_c":12}', durationMs: 1 };
      },
    };
    const run = engine(sim, { tools });
    await run.events.waitFor(isNote('configured'), 'configured');
    void run.source.say(turnSpeech());
    const callId = await started.waitFor(() => true, 'the tool to start');
    const firstSession = sim.sessions()[0]!;
    sim.inject('drop');
    await log.closes.waitFor((c) => c.sessionId === firstSession, 'the drop');
    const reconnected = run.events.mark;
    await run.events.waitFor(isNote('configured'), 'reconfigured', 15_000, reconnected);
    finish(); // the tool answers only now, after the session it belonged to is gone
    // A full turn on the new session proves the shell moved on; the late answer must not have gone anywhere.
    const beforeTurn = run.events.mark;
    void run.source.say(turnSpeech());
    await run.events.waitFor((e) => isNote('response-done')(e), 'a reply on the new session', 15_000, beforeTurn);
    run.quit();
    await run.chat.done;

    const outputs = log.client('conversation.item.create');
    expect(outputs.filter((f) => JSON.stringify(f.frame).includes(callId))).toEqual([]);
    expect(outputs.every((f) => f.sessionId !== firstSession)).toBe(true);
    expect(notesOf(run.events.items).filter((n) => n.kind === 'tool-result' && n.callId === callId)).toEqual([]);
    expect(log.client('response.create').every((f) => f.sessionId !== firstSession)).toBe(true);
    expect(log.client('session.configure')).toHaveLength(2);
  });

  it('while idle: reconnects and reconfigures; a drop before any session ran backs off and gives up with exit code 9', async () => {
    const sim = await simulator();
    const log = simLog(sim);
    const run = engine(sim);
    await run.events.waitFor(isNote('configured'), 'configured');
    const mark = run.events.mark;
    sim.inject('drop');
    const retry = await run.events.waitFor(isStatus('retrying'), 'retrying', 15_000, mark);
    await run.events.waitFor(isNote('configured'), 'configured again', 15_000, mark);
    run.quit();
    expect((await run.chat.done).reason).toBe('user-quit');
    expect(retry).toMatchObject({ detail: { why: 'dropped', attempt: 1 } });
    expect(log.client('session.configure')).toHaveLength(2);
    expect(log.closes.items.map((c) => c.code)).toEqual([1006, 1000]); // the drop, then our clean close on quit
  });

  it('a server that keeps dropping: capped exponential backoff, then an error after --max-retries', async () => {
    const sim = await simulator();
    // Every session is dropped as soon as it is configured: no session ever "runs", so attempts add up.
    sim.on('client-frame', (id, event) => {
      if (event.type === 'session.configure') setImmediate(() => sim.inject('drop', id));
    });
    const run = engine(sim, { maxRetries: 2 });
    const outcome = await run.chat.done;
    const retries = run.events.items.flatMap((e) => (e.type === 'connection' && e.detail.status === 'retrying' ? [e.detail] : []));
    expect(run.events.items.filter(isNote('configured'))).toHaveLength(3); // each session did open
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    // Full jitter under the §1.7 steps: ≤ 1 s, then ≤ 2 s.
    expect(retries[0]!.inMs).toBeLessThanOrEqual(1000);
    expect(retries[1]!.inMs).toBeLessThanOrEqual(2000);
    expect(outcome.reason).toBe('error');
    expect(outcome.reason === 'error' && outcome.error.exitCode).toBe(9);
  });
});

describe('fault matrix: idle close 1000', () => {
  it('a server close 1000 (idle timeout) ends the session cleanly, without reconnecting', async () => {
    const sim = await simulator({ idleTimeoutMs: 300 });
    const log = simLog(sim);
    // A muted microphone that sends nothing: the user is away, so the server's idle timer fires.
    const quiet: ScriptedSource = { ...scriptedSource(), async start() {}, frameMs: 20 };
    const run = engine(sim, {}, quiet);
    const outcome = await run.chat.done;
    expect(outcome.reason).toBe('server-closed');
    expect((await log.closes.waitFor(() => true, 'the close')).code).toBe(1000);
    expect(run.events.items.filter(isStatus('connecting'))).toHaveLength(1);
    expect(run.events.items.filter(isStatus('retrying'))).toEqual([]);
  });
});

describe('fault matrix: hostile and broken frames', () => {
  it('nothing crashes, each anomaly is shown once, and the conversation goes on', async () => {
    const sim = await simulator({ realtimeFactor: 4, rules: [{ turn: 2, calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] }] });
    const log = simLog(sim);
    const calls: string[] = [];
    const tools: ToolRunner = {
      declarations: WEATHER,
      run: async (_name, args) => {
        calls.push(args);
        try {
          JSON.parse(args);
        } catch {
          return { ok: false, output: JSON.stringify({ error: 'invalid arguments: not valid JSON' }), durationMs: 0, error: 'bad json' };
        }
        return { ok: true, output: '{"temp_c":3}', durationMs: 0 };
      },
    };
    // Audio faults need a response in flight: inject them as soon as the simulator starts one.
    let injectedAudio = false;
    sim.on('server-frame', (_id, frame) => {
      const real = typeof (frame.response as { id?: unknown } | undefined)?.id === 'string'; // not the wrong-types fault
      if (frame.type === 'response.created' && real && !injectedAudio) {
        injectedAudio = true;
        for (const fault of ['bad-base64-delta', 'odd-pcm-delta', 'bad-base64-delta', 'odd-pcm-delta'] as const) sim.inject(fault);
      }
    });
    const run = engine(sim, { tools });
    await run.events.waitFor(isNote('configured'), 'configured');
    for (const fault of ['malformed-json', 'unknown-event', 'missing-fields', 'wrong-types', 'stale-delta', 'done-without-created'] as const) {
      sim.inject(fault);
      sim.inject(fault);
    }
    void run.source.say(turnSpeech());
    await run.events.waitFor(isNote('response-done'), 'the first reply');
    // Tool-call faults: duplicate call_ids, then arguments that are not JSON.
    let mark = run.events.mark;
    sim.inject('duplicate-call-id');
    await run.events.waitFor((e) => e.type === 'note' && e.note.kind === 'anomaly' && e.note.key === 'duplicate-call', 'duplicate-call', 15_000, mark);
    mark = run.events.mark;
    sim.inject('non-json-arguments');
    await run.events.waitFor((e) => e.type === 'note' && e.note.kind === 'tool-result' && !e.note.ok, 'an error output', 15_000, mark);
    // And the session still does a normal tool turn afterwards.
    mark = run.events.mark;
    void run.source.say(turnSpeech());
    await run.events.waitFor((e) => e.type === 'metric', 'a measured turn', 15_000, mark);
    run.quit();
    expect((await run.chat.done).reason).toBe('user-quit');

    const anomalies = anomaliesOf(run.events.items);
    const keys = anomalies.map((a) => a.key);
    expect(new Set(keys).size).toBe(keys.length); // each shown once
    expect(keys).toEqual(
      expect.arrayContaining([
        'invalid:', // malformed JSON
        'unknown:response.future_thing.delta',
        'invalid:response.output_audio.delta', // missing fields
        'invalid:response.created', // wrong types
        'stale-delta',
        'done-without-created',
        'bad-audio:base64',
        'bad-audio:odd-bytes',
        'args-after-done', // the duplicate call's argument stream
        'duplicate-call',
      ]),
    );
    expect(anomalies.every((a) => a.message.length < 200)).toBe(true); // concise
    // The phantom response.done is not reported as a finished reply.
    expect(notesOf(run.events.items).filter((n) => n.kind === 'response-done').every((n) => log.frames.items.some((f) => f.frame.type === 'response.created' && JSON.stringify(f.frame).includes((n as { responseId: string }).responseId)))).toBe(true);
    expect(calls).toContain('{city: Paris');
    const outputs = log.client('conversation.item.create').map((f) => JSON.stringify(f.frame));
    expect(outputs.some((o) => o.includes('not valid JSON'))).toBe(true);
    expect(run.events.items.filter(isStatus('retrying'))).toEqual([]); // none of this cost the connection
  });

  it('a 50 MB frame is refused (maxPayload), memory stays bounded, and the client reconnects', async () => {
    const sim = await simulator();
    const run = engine(sim);
    await run.events.waitFor(isNote('configured'), 'configured');
    const rssBefore = process.memoryUsage().rss;
    const mark = run.events.mark;
    // One well-formed 50 MB audio delta (the injector's largeFrameBytes synthesises real audio, which is slow).
    const responseId = 'resp_huge';
    sim.inject({ raw: `{"type":"response.output_audio.delta","response_id":"${responseId}","delta":"${'A'.repeat(50 * 1024 * 1024)}"}` });
    const retry = await run.events.waitFor(isStatus('retrying'), 'retrying', 20_000, mark);
    await run.events.waitFor(isNote('configured'), 'configured again', 20_000, mark);
    run.quit();
    await run.chat.done;
    const detail = retry.type === 'connection' && retry.detail.status === 'retrying' ? retry.detail : null;
    expect(detail!.error.message).toMatch(/larger than 16 MB/);
    // The simulator built the 50 MB frame in this process too; the client never held all of it.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(400 * 1024 * 1024);
  }, 40_000);

  it('a flood of invented event types shows at most 64 kinds, then one line saying the rest are muted', async () => {
    const sim = await simulator();
    const run = engine(sim);
    await run.events.waitFor(isNote('configured'), 'configured');
    const raw = (text: string) => sim.inject({ raw: text });
    // 200 distinct unknown types, then one absurdly long one.
    for (let i = 0; i < 200; i += 1) raw(JSON.stringify({ type: `x.future_${i}`, payload: 'x'.repeat(i) }));
    raw(JSON.stringify({ type: 'y'.repeat(100_000) }));
    await run.events.waitFor(isNote('anomaly'), 'anomalies');
    await run.events.waitFor((e) => e.type === 'note' && e.note.kind === 'anomaly' && e.note.key === 'anomalies-muted', 'the mute line');
    run.quit();
    await run.chat.done;
    const anomalies = anomaliesOf(run.events.items);
    expect(anomalies.length).toBe(65);
    expect(anomalies.every((a) => a.message.length < 200)).toBe(true);
  });
});

describe('fault matrix: tools that misbehave', () => {
  it('throw, hang, exit non-zero, print 10 MB or return non-JSON: the model gets an output for each, the session continues', async () => {
    const node = process.execPath;
    const agent = validateAgentConfig(
      {
        tools: [
          { name: 'throws', handler: () => { throw new Error('boom'); } },
          { name: 'hangs', timeoutMs: 300, handler: () => new Promise(() => undefined) },
          { name: 'exits', command: [node, '-e', "process.stderr.write('disk full'); process.exit(3)"] },
          { name: 'floods', command: [node, '-e', "process.stdout.write('x'.repeat(10 * 1024 * 1024))"] },
          { name: 'prose', command: [node, '-e', "process.stdout.write('sunny, 12 degrees {')"] },
          { name: 'bigint', handler: () => ({ n: 10n }) },
        ],
      },
      join(dir, 'agent.json'),
    );
    const names = agent.tools.map((t) => t.name);
    const sim = await simulator({ rules: [{ turn: 1, calls: names.map((name) => ({ name, arguments: {} })) }] });
    const log = simLog(sim);
    const run = engine(sim, { tools: createToolRunner(agent) });
    await run.events.waitFor(isNote('configured'), 'configured');
    void run.source.say(turnSpeech());
    const metric = await run.events.waitFor((e) => e.type === 'metric', 'the narration after the tools', 20_000);
    const mark = run.events.mark;
    void run.source.say(turnSpeech());
    await run.events.waitFor((e) => e.type === 'metric', 'the next turn', 15_000, mark);
    run.quit();
    expect((await run.chat.done).reason).toBe('user-quit');

    expect(metric.type === 'metric' && metric.metric.kind).toBe('tool');
    const results = notesOf(run.events.items).flatMap((n) => (n.kind === 'tool-result' ? [n] : []));
    expect(results.map((r) => r.name).sort()).toEqual([...names].sort());
    const by = (name: string) => results.find((r) => r.name === name)!;
    expect(by('throws')).toMatchObject({ ok: false, output: expect.stringContaining('boom') });
    expect(by('hangs')).toMatchObject({ ok: false, output: expect.stringContaining('timed out') });
    expect(by('exits')).toMatchObject({ ok: false, output: expect.stringMatching(/3|disk full/) });
    expect(by('floods').output.length).toBeLessThanOrEqual(17 * 1024); // capped, not 10 MB
    expect(by('prose')).toMatchObject({ ok: true, output: 'sunny, 12 degrees {' });
    expect(by('bigint')).toMatchObject({ ok: false, output: expect.stringContaining('JSON') });
    const outputs = log.client('conversation.item.create');
    expect(outputs).toHaveLength(names.length);
    expect(outputs.every((f) => JSON.stringify(f.frame).length < 40 * 1024)).toBe(true);
    expect(log.client('response.create')).toHaveLength(1);
  });
});

// ── The CLI ──────────────────────────────────────────────────────────────────

const KEY_ENV = { SMALLEST_API_KEY: 'sk-faults-key' };
const cliArgs = (url: string, ...extra: string[]) => ['--url', url, '--input', utterance, '--output', join(dir, `out-${Math.random().toString(36).slice(2)}.wav`), ...extra];
const ended = (line: JsonLine) => line.event === 'end';

/** A port on which nothing listens. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A plain TCP server (no TLS) that answers like an HTTP server: wss:// to it fails the TLS handshake. */
async function plainTcp(): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', () => socket.destroy());
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('fault matrix: connecting (the CLI)', () => {
  it('server_full + 1013 twice, then success: the countdown is shown, the run completes', async () => {
    const sim = await simulator({ faults: { serverFullTimes: 2 } });
    const run = await cli(cliArgs(sim.url), KEY_ENV);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/server full · retrying in \d+(\.\d)? s \(attempt 2\)/);
    expect(run.stdout).toMatch(/server full · retrying in \d+(\.\d)? s \(attempt 3\)/);
    expect(run.stdout).toMatch(/connected · session/);
  });

  it('server_full forever: Ctrl-C during the backoff wait exits at once with 0 and an end event', async () => {
    const sim = await simulator({ faults: { serverFullTimes: 1000 } });
    const run = startCli(['--json', '--max-retries', '20', ...cliArgs(sim.url)], KEY_ENV);
    // Wait for a countdown long enough that the signal surely lands inside it.
    const line = await run.waitFor((l) => l.event === 'retrying' && l.why === 'server-full' && (l.in_ms as number) >= 1000, 25_000);
    const killedAt = performance.now();
    run.child.kill('SIGINT');
    const code = await run.exited;
    const tookMs = performance.now() - killedAt;
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(Math.min(line.in_ms as number, 1500));
    expect(run.lines.find(ended)).toMatchObject({ reason: 'user-quit' });
    expect(run.lines.filter((l) => l.event === 'retrying').every((l) => (l.in_ms as number) <= 60_000)).toBe(true);
  }, 40_000);

  it('HTTP 401: exit 4, an actionable message, never retried', async () => {
    const sim = await simulator({ apiKey: 'the-right-key' });
    const run = startCli(['--json', ...cliArgs(sim.url)], KEY_ENV);
    expect(await run.exited).toBe(4);
    expect(run.stderr()).toMatch(/error: API key rejected \(HTTP 401\)\n.*SMALLEST_API_KEY/);
    expect(run.lines.filter((l) => l.event === 'connecting')).toHaveLength(1);
    expect(run.lines.filter((l) => l.event === 'retrying')).toEqual([]);
    expect(run.lines.find(ended)).toMatchObject({ reason: 'error', code: 'auth-rejected' });
  });

  it('HTTP 404 (a wrong --url path): exit 9, names the right path, never retried', async () => {
    const sim = await simulator();
    const run = startCli(['--json', ...cliArgs(sim.url.replace('/waves/v1/s2s', '/v1/s2s'))], KEY_ENV);
    expect(await run.exited).toBe(9);
    expect(run.stderr()).toMatch(/error: no Hydra endpoint at that URL \(HTTP 404/);
    expect(run.stderr()).toContain('/waves/v1/s2s');
    expect(run.lines.filter((l) => l.event === 'connecting')).toHaveLength(1);
  });

  it('HTTP 403: exit 5, its own message, never retried', async () => {
    const sim = await simulator({ faults: { rejectStatus: { status: 403 } } });
    const run = startCli(['--json', ...cliArgs(sim.url)], KEY_ENV);
    expect(await run.exited).toBe(5);
    expect(run.stderr()).toMatch(/error: access denied \(HTTP 403\)/);
    expect(run.lines.filter((l) => l.event === 'connecting')).toHaveLength(1);
  });

  it('HTTP 429 honours Retry-After, then connects; 429 every time ends with exit 6', async () => {
    const once = await simulator({ faults: { rejectStatus: { status: 429, retryAfterS: 1, times: 1 } } });
    const recovering = startCli(['--json', ...cliArgs(once.url)], KEY_ENV);
    const always = await simulator({ faults: { rejectStatus: { status: 429, retryAfterS: 1 } } });
    const failing = startCli(['--json', '--max-retries', '1', ...cliArgs(always.url)], KEY_ENV);
    expect(await recovering.exited).toBe(0);
    expect(recovering.lines.find((l) => l.event === 'retrying')).toMatchObject({ why: 'rate-limited', in_ms: 1000, attempt: 1 });
    expect(recovering.lines.some((l) => l.event === 'connected')).toBe(true);
    expect(await failing.exited).toBe(6);
    expect(failing.stderr()).toMatch(/error: rate limited \(HTTP 429\), retry after 1 s/);
    expect(failing.lines.filter((l) => l.event === 'connecting')).toHaveLength(2);
  });

  it('HTTP 5xx is retried with backoff; 5xx every time ends with exit 8', async () => {
    const once = await simulator({ faults: { rejectStatus: { status: 503, times: 1 } } });
    const recovering = startCli(['--json', ...cliArgs(once.url)], KEY_ENV);
    const always = await simulator({ faults: { rejectStatus: { status: 500 } } });
    const failing = startCli(['--json', '--max-retries', '1', ...cliArgs(always.url)], KEY_ENV);
    expect(await recovering.exited).toBe(0);
    expect(recovering.lines.find((l) => l.event === 'retrying')).toMatchObject({ why: 'dropped', attempt: 1, error: 'server error at connect (HTTP 503)' });
    expect(await failing.exited).toBe(8);
    expect(failing.stderr()).toMatch(/error: server error at connect \(HTTP 500\)/);
  });

  it('connection refused, DNS failure and TLS failure: exit 9 each, with distinct messages and no retry loop', async () => {
    const [refused, dns, tls] = await Promise.all([
      deadPort().then((port) => cli(cliArgs(`ws://127.0.0.1:${port}/waves/v1/s2s`), KEY_ENV)),
      cli(cliArgs('ws://nonexistent.invalid/waves/v1/s2s'), KEY_ENV),
      plainTcp().then((port) => cli(cliArgs(`wss://127.0.0.1:${port}/waves/v1/s2s`), KEY_ENV)),
    ]);
    expect([refused.code, dns.code, tls.code]).toEqual([9, 9, 9]);
    expect(refused.stderr).toMatch(/error: connection refused by ws:\/\/127\.0\.0\.1:\d+.*\n.*server running/);
    expect(dns.stderr).toMatch(/error: cannot resolve the host of ws:\/\/nonexistent\.invalid.*\(DNS\)/);
    expect(tls.stderr).toMatch(/error: TLS failure talking to wss:\/\/127\.0\.0\.1:\d+\/waves\/v1\/s2s: wrong version number\n.*ws:\/\//);
    for (const run of [refused, dns, tls]) {
      expect(run.stdout).not.toMatch(/retrying/);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    }
  });
});

describe('fault matrix: signals (the CLI)', () => {
  for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
    it(`${signal}: closes the socket with 1000, finalises --record and --output, exits`, async () => {
      const sim = await simulator();
      const log = simLog(sim);
      const record = join(dir, `${signal}-record.wav`);
      const output = join(dir, `${signal}-output.wav`);
      const run = startCli(['--json', '--url', sim.url, '--input', utterance, '--output', output, '--record', record, '--trailing-silence', '600000'], KEY_ENV);
      await run.waitFor((l) => l.event === 'turn'); // a reply is arriving: both files are being written
      await run.waitFor((l) => l.frame?.type === 'response.done');
      run.child.kill(signal);
      const code = await run.exited;
      // SIGINT is "the user quit" (0, like q); SIGTERM / SIGHUP end just as cleanly with 128+n.
      expect(code).toBe(signal === 'SIGINT' ? 0 : 128 + number);
      expect(run.lines.find(ended)).toMatchObject({ reason: 'user-quit' });
      expect((await log.closes.waitFor(() => true, 'the close')).code).toBe(1000);
      for (const path of [record, output]) {
        const wav = wavSizes(path);
        expect(wav.dataBytes).toBeGreaterThan(0);
        expect(wav.dataBytes).toBe(wav.fileBytes - 44);
        expect(wav.riffBytes).toBe(wav.fileBytes - 8);
      }
    });
  }

  it('an uncaught error (a tool handler whose stray timer throws): one line, socket closed with 1000, recording finalised, exit 70', async () => {
    const sim = await simulator({ rules: [{ turn: 1, calls: [{ name: 'explode', arguments: {} }] }] });
    const log = simLog(sim);
    const tools = join(dir, 'explode.tools.ts');
    writeFileSync(
      tools,
      [
        "export default { tools: [{ name: 'explode', parameters: { type: 'object', properties: {} },",
        "  handler: () => { setTimeout(() => { throw new Error('stray timer in the tool'); }, 0); return 'ok'; } }] };",
        '',
      ].join('\n'),
    );
    const record = join(dir, 'crash-record.wav');
    const run = startCli(['--json', '--url', sim.url, '--tools', tools, '--input', utterance, '--output', join(dir, 'crash-out.wav'), '--record', record, '--trailing-silence', '600000'], KEY_ENV);
    const code = await run.exited;
    expect(code, run.stderr()).toBe(70);
    expect(run.stderr()).toMatch(/^error: tool "explode" threw outside its call \(in a timer or callback\): stray timer in the tool$/m);
    expect(run.stderr()).not.toMatch(/\n\s+at /); // no stack trace
    expect((await log.closes.waitFor(() => true, 'the close')).code).toBe(1000);
    const wav = wavSizes(record);
    expect(wav.dataBytes).toBeGreaterThan(0);
    expect(wav.dataBytes).toBe(wav.fileBytes - 44);
  });

  it('SIGKILL mid-write: --record still has a valid header within the last second', async () => {
    const sim = await simulator({ realtimeFactor: 1 });
    const record = join(dir, 'killed.wav');
    const run = startCli(['--json', '--url', sim.url, '--input', utterance, '--output', join(dir, 'killed-out.wav'), '--record', record, '--trailing-silence', '600000'], KEY_ENV);
    await run.waitFor((l) => l.event === 'turn'); // the reply streams in real time: writes are in progress
    run.child.kill('SIGKILL');
    await run.exited;
    const wav = wavSizes(record);
    expect(wav).toMatchObject({ channels: 2, sampleRate: 48000 });
    const oneSecond = 48000 * 2 * 2;
    expect(wav.dataBytes).toBeGreaterThan(0);
    expect(wav.dataBytes).toBeLessThanOrEqual(wav.fileBytes - 44);
    expect(wav.fileBytes - 44 - wav.dataBytes).toBeLessThanOrEqual(oneSecond);
    expect(wav.riffBytes).toBe(wav.dataBytes + 36);
  });
});


// ── What the input says (issue 12.1, 12.2) ───────────────────────────────────

/** The audio each session received, in order, keyed by session id. */
function receivedAudio(sim: Simulator): Map<string, Buffer[]> {
  const bySession = new Map<string, Buffer[]>();
  sim.on('client-frame', (sessionId, event) => {
    if (event.type !== 'input_audio_buffer.append') return;
    const list = bySession.get(sessionId) ?? [];
    list.push(Buffer.from(event.audio, 'base64'));
    bySession.set(sessionId, list);
  });
  return bySession;
}

describe('fault matrix: every byte of --input reaches a configured session (the CLI)', () => {
  let speech: Buffer;
  let speechWav: string;
  beforeAll(() => {
    // Starts with speech at once: a client that starts the file before session.configured loses its first syllable.
    speech = Buffer.concat([tone(700), silence(300)]);
    speechWav = join(dir, 'speech-first.wav');
    writeWav16k(speechWav, speech);
  });

  it('no audio before session.configured: the configured session gets the file from its first byte', async () => {
    const sim = await simulator();
    const audio = receivedAudio(sim);
    const run = await cli(cliArgs(sim.url).map((arg) => (arg === utterance ? speechWav : arg)), KEY_ENV);
    expect(run.code, run.stderr).toBe(0);
    const sessions = [...audio.values()];
    expect(sessions).toHaveLength(1);
    const sent = Buffer.concat(sessions[0]!);
    expect(sent.subarray(0, speech.length).equals(speech)).toBe(true);
    expect(sent.subarray(speech.length).every((byte) => byte === 0)).toBe(true); // then only trailing silence
  });

  it('server_full twice: the question is not lost while retrying; the session that runs hears all of it', async () => {
    const sim = await simulator({ faults: { serverFullTimes: 2 } });
    const audio = receivedAudio(sim);
    const run = startCli(['--json', ...cliArgs(sim.url).map((arg) => (arg === utterance ? speechWav : arg))], KEY_ENV);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.lines.filter((l) => l.event === 'retrying')).toHaveLength(2);
    expect(run.lines.find(ended)).toMatchObject({ reason: 'input-finished', turns: 1 });
    const sent = Buffer.concat([...audio.values()][0]!);
    expect(sent.subarray(0, speech.length).equals(speech)).toBe(true);
  });

  it('a drop mid-turn: the unanswered turn is spoken again from its start on the new session, with one line saying so', async () => {
    const sim = await simulator();
    const audio = receivedAudio(sim);
    let dropped: string | null = null;
    sim.on('server-frame', (sessionId, frame) => {
      if (dropped === null && frame.type === 'input_audio_buffer.speech_started') {
        dropped = sessionId;
        sim.inject('drop', sessionId);
      }
    });
    const run = await cli(cliArgs(sim.url).map((arg) => (arg === utterance ? speechWav : arg)), KEY_ENV);
    expect(run.code, run.stderr).toBe(0);
    const ids = [...audio.keys()];
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(dropped);
    const first = Buffer.concat(audio.get(ids[0]!)!);
    const second = Buffer.concat(audio.get(ids[1]!)!);
    // The dropped session got the start of the file (and no more than the file); the next one all of it, from byte 0.
    expect(first.length).toBeGreaterThan(0);
    expect(first.equals(speech.subarray(0, first.length))).toBe(true);
    expect(second.subarray(0, speech.length).equals(speech)).toBe(true);
    expect(run.stdout.match(/was not answered before the connection was lost; saying it again/g)).toHaveLength(1);
    expect(run.stdout).toMatch(/turn at 0\.0 s of \S*speech-first\.wav/);
  });
});

describe('fault matrix: answered turns are not spoken again (the CLI)', () => {
  it('a drop after the first turn was answered: the new session hears the file from there on, the first question is not asked twice', async () => {
    const sim = await simulator();
    const audio = receivedAudio(sim);
    let dropped = false;
    sim.on('server-frame', (sessionId, frame) => {
      if (!dropped && frame.type === 'response.done') {
        dropped = true;
        sim.inject('drop', sessionId);
      }
    });
    const first = tone(600);
    const second = tone(600, 330);
    const wav = join(dir, 'two-turns.wav');
    writeWav16k(wav, Buffer.concat([first, silence(1200), second, silence(1200)]));
    const run = startCli(['--json', '--url', sim.url, '--input', wav, '--output', join(dir, 'two-turns-out.wav')], KEY_ENV);
    expect(await run.exited, run.stderr()).toBe(0);
    const sessions = [...audio.values()].map((frames) => Buffer.concat(frames));
    expect(sessions).toHaveLength(2);
    expect(sessions[1]!.indexOf(first.subarray(0, 640))).toBe(-1); // the first question is not asked again
    expect(sessions[1]!.indexOf(second.subarray(0, 640))).toBeGreaterThanOrEqual(0);
    expect(run.lines.filter((l) => l.event === 'turn')).toHaveLength(2);
    expect(run.lines.filter((l) => l.event === 'note' && l.code === 'input-replayed')).toEqual([]);
  });
});

describe('fault matrix: a run that heard nothing does not pass (the CLI)', () => {
  it('a silent --input: exit 18, "the server heard no speech in …"', async () => {
    const sim = await simulator();
    const quiet = join(dir, 'quiet.wav');
    writeWav16k(quiet, silence(800));
    const run = await cli(['--url', sim.url, '--input', quiet, '--output', join(dir, 'quiet-out.wav'), '--trailing-silence', '600'], KEY_ENV);
    expect(run.code).toBe(18);
    expect(run.stderr).toContain(`error: the server heard no speech in ${quiet}`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a turn heard but never answered: exit 19, "no reply within 1 s" (--reply-timeout), not silence for ever', async () => {
    const sim = await simulator({ responseDelayMs: 600_000 });
    const run = await cli([...cliArgs(sim.url), '--reply-timeout', '1'], KEY_ENV, 20_000);
    expect(run.code).toBe(19);
    expect(run.stderr).toMatch(/^error: no reply within 1 s/m);
  });

  it('a cough the server discards as noise is not a turn: exit 18', async () => {
    const sim = await simulator();
    const log = simLog(sim);
    const cough = join(dir, 'cough.wav');
    writeWav16k(cough, Buffer.concat([silence(200), tone(200), silence(800)]));
    const run = await cli(['--url', sim.url, '--input', cough, '--output', join(dir, 'cough-out.wav'), '--trailing-silence', '800'], KEY_ENV);
    expect(log.frames.items.some((f) => f.frame.type === 'input_audio_buffer.speech_stopped')).toBe(true);
    expect(run.code, run.stdout).toBe(18);
    expect(run.stderr).toContain(`error: the server heard no speech in ${cough}`);
  });

  it('the server closing (1000) before it heard anything is not a pass either: exit 18', async () => {
    const server = await rawServer((socket, frame) => {
      if (frame.type !== 'session.configure') return;
      socket.send(JSON.stringify({ type: 'session.configured', event_id: 'sv_0000000000000003', session: { voice: 'wren', output_audio_sample_rate: 48000 } }));
      setImmediate(() => socket.close(1000));
    });
    const run = await cli(cliArgs(server.url), KEY_ENV);
    expect(run.code).toBe(18);
    expect(run.stderr).toContain(`error: the server heard no speech in ${utterance}`);
  });

  it('--reply-timeout must be a whole number', async () => {
    const run = await cli(['--mock', '--reply-timeout', 'soon', '--input', utterance]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--reply-timeout must be a whole number/);
  });
});

// ── Small hostile servers on a real socket ───────────────────────────────────

type RawServer = { url: string; connections: number; received: Record<string, unknown>[] };

/** A WebSocket server that greets with session.created and then does what `onFrame` says. */
/** A WebSocket server on a free loopback port, closed after the test. */
async function listen(): Promise<{ wss: WebSocketServer; server: RawServer }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );
  return { wss, server: { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/waves/v1/s2s`, connections: 0, received: [] } };
}

async function rawServer(onFrame: (socket: WebSocket, frame: Record<string, unknown>) => void): Promise<RawServer> {
  const { wss, server } = await listen();
  wss.on('connection', (socket) => {
    server.connections += 1;
    socket.send(JSON.stringify({ type: 'session.created', event_id: 'sv_0000000000000001', session_id: `raw-${server.connections}` }));
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      server.received.push(frame);
      onFrame(socket, frame);
    });
  });
  return server;
}

/**
 * The strict reading of §2.3/§10.3 in front of the simulator: a session.configure naming a voice is
 * answered with the documented error and never configured; one without a voice goes through.
 */
async function voiceRejectingProxy(target: Simulator): Promise<RawServer> {
  const { wss, server: proxy } = await listen();
  wss.on('connection', (client, request) => {
    proxy.connections += 1;
    const upstream = new WebSocket(`ws://127.0.0.1:${target.port}${request.url ?? ''}`);
    const queued: string[] = [];
    upstream.on('open', () => queued.splice(0).forEach((text) => upstream.send(text)));
    upstream.on('message', (data) => client.readyState === WebSocket.OPEN && client.send(data.toString()));
    upstream.on('close', () => client.close());
    upstream.on('error', () => client.terminate());
    client.on('close', () => upstream.close());
    client.on('message', (data) => {
      const text = data.toString();
      const frame = JSON.parse(text) as { type: string; session?: { voice?: string } };
      if (frame.type === 'session.configure') {
        proxy.received.push(frame);
        if (frame.session?.voice !== undefined) {
          const error = { type: 'invalid_request_error', code: 'invalid_request_error', message: `voice '${frame.session.voice}' does not exist`, param: 'session.configure.session.voice' };
          client.send(JSON.stringify({ type: 'error', event_id: 'sv_00000000000000e1', error }));
          return;
        }
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else queued.push(text);
    });
  });
  return proxy;
}

describe('fault matrix: the voice (issue 12.6, the CLI)', () => {
  it('rejected with an error, then configured with the default (the simulator\'s August profile): one plain line, the turn is answered', async () => {
    const sim = await simulator({ profile: 'aug-2026' });
    const run = await cli([...cliArgs(sim.url), '--model', 'hydra-v1.1', '--voice', 'reed'], KEY_ENV);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.match(/voice reed is not served on hydra-v1\.1 any more; using sterling — see `hydra-chat voices`/g)).toHaveLength(1);
    expect(run.stdout).not.toMatch(/server error/);
    expect(run.stdout).toMatch(/summary · .* · 1 turn ·/);
  });

  it('rejected and never configured (the strict reading): reconnects without the voice, the conversation works, one line', async () => {
    const sim = await simulator();
    const proxy = await voiceRejectingProxy(sim);
    const run = await cli([...cliArgs(proxy.url), '--model', 'hydra', '--voice', 'reed'], KEY_ENV);
    expect(run.code, run.stderr).toBe(0);
    expect(proxy.connections).toBe(2);
    expect(proxy.received.map((frame) => (frame.session as { voice?: string }).voice)).toEqual(['reed', undefined]);
    expect(run.stdout.match(/voice reed is not served on hydra any more; using wren — see `hydra-chat voices`/g)).toHaveLength(1);
    expect(run.stdout).toMatch(/summary · .* · 1 turn ·/);
  });

  it('the headline command (`--voice reed`, no --model) against the strict August probe, which rejects the six original voices on every tag', async () => {
    const sim = await simulator({ profile: 'aug-2026-probe' });
    const run = await cli([...cliArgs(sim.url), '--voice', 'reed'], KEY_ENV);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^hydra-chat · model hydra · voice reed/m);
    expect(run.stdout.match(/voice reed is not served on hydra any more; using sterling — see `hydra-chat voices`/g)).toHaveLength(1);
    expect(run.stdout).not.toMatch(/server error/);
    expect(run.stdout).toMatch(/summary · .* · 1 turn ·/);
  });

  it('silently replaced (the May docs): says which voice the server used', async () => {
    const sim = await simulator({ profile: 'may-2026' });
    const run = await cli([...cliArgs(sim.url), '--model', 'hydra', '--voice', 'nobody'], KEY_ENV);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.match(/the server does not know voice nobody and used wren instead — see `hydra-chat voices`/g)).toHaveLength(1);
  });
});

describe('fault matrix: hostile boundaries of the session (issue 13.6, 13.8, 13.18)', () => {
  it('no session.configured, or one the decoder rejects: the run ends with a clear line instead of hanging', async () => {
    // (A cut-off frame: the decoder must reject it however lenient it is about odd fields.)
    for (const answer of [null, '{"type":"session.configured","event_id":"sv_0000000000000002","session":{"voice":"wr']) {
      const server = await rawServer((socket, frame) => {
        if (frame.type === 'session.configure' && answer !== null) socket.send(answer);
      });
      const events = new Log<ChatEvent>();
      const outcome = await startChat({
        url: server.url,
        model: 'hydra',
        apiKey: 'k',
        session: {},
        source: pcmSource(silence(200), { frameMs: 20 }),
        openSink: async (rate) => createClockSink(rate),
        observe: events.push,
        signal: AbortSignal.timeout(10_000),
        configuredTimeoutMs: 400,
      }).done;
      expect(outcome.reason === 'error' && outcome.error.exitCode).toBe(9);
      expect(outcome.reason === 'error' && outcome.error.message).toMatch(/no usable session\.configured within 0\.4 s/);
      expect(server.connections).toBe(1); // not retried
    }
  });

  it('--max-retries holds when every session answers a turn and then drops (a short session counts)', async () => {
    const sim = await simulator();
    const log = simLog(sim);
    sim.on('server-frame', (sessionId, frame) => {
      if (frame.type === 'response.done') sim.inject('drop', sessionId);
    });
    const turns = join(dir, 'four-turns.wav');
    writeWav16k(turns, Buffer.concat(Array.from({ length: 4 }, () => Buffer.concat([tone(600), silence(1200)]))));
    const run = startCli(['--json', '--max-retries', '2', '--url', sim.url, '--input', turns, '--output', join(dir, 'answer-drop.wav')], KEY_ENV);
    expect(await run.exited, run.stderr()).toBe(9);
    expect(log.client('session.configure')).toHaveLength(3);
    expect(run.lines.filter((l) => l.event === 'turn')).toHaveLength(3); // each session did answer its turn
    expect(run.lines.filter((l) => l.event === 'retrying').map((l) => l.attempt)).toEqual([1, 2]);
    expect(run.lines.find(ended)).toMatchObject({ reason: 'error', code: 'connect-failed' });
  }, 30_000);

  it('session.configure over the server limit is refused before connecting; over 16 KB is a warning', async () => {
    const sim = await simulator();
    const log = simLog(sim);
    const huge = join(dir, 'huge-prompt.txt');
    writeFileSync(huge, 'x'.repeat(2 * 1024 * 1024));
    const refused = await cli(['--url', sim.url, '--prompt-file', huge, '--input', utterance], KEY_ENV);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: session\.configure would be 2048 KB, more than the 1024 KB a Hydra server accepts in one frame$/m);
    expect(log.client('session.configure')).toEqual([]);
    const long = join(dir, 'long-prompt.txt');
    writeFileSync(long, 'Be brief. '.repeat(2000));
    const warned = await cli([...cliArgs(sim.url), '--prompt-file', long], KEY_ENV);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stdout.match(/session\.configure is 20 KB .*above ~16 KB/g)).toHaveLength(1);
  });

  it('a 1009 close caused by our own frame is reported as such, and not retried', async () => {
    const server = await rawServer((socket, frame) => {
      if (frame.type === 'session.configure') socket.close(1009, 'message too big');
    });
    const run = startCli(['--json', ...cliArgs(server.url)], KEY_ENV);
    expect(await run.exited).toBe(9);
    expect(run.stderr()).toMatch(/a frame hydra-chat sent was larger than it accepts/);
    expect(run.stderr()).not.toMatch(/arrived/);
    expect(server.connections).toBe(1);
  });

  it("--url 'not a url' and a non-WebSocket scheme exit 2 with one line; plain http:// off this machine warns about the key", async () => {
    const bad = await cli(['--url', 'not a url', '--input', utterance], KEY_ENV);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --url "not a url" is not a URL$/m);
    const ftp = await cli(['--url', 'ftp://example.com/x', '--input', utterance], KEY_ENV);
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toMatch(/--url must be a ws:\/\/ or wss:\/\/ URL/);
    const plain = await cli(['--url', 'http://hydra.invalid/waves/v1/s2s', '--input', utterance], KEY_ENV);
    expect(plain.stdout).toMatch(/warning: hydra\.invalid is reached over plain http:\/\/, so the API key travels unencrypted/);
    expect(plain.stdout + plain.stderr).not.toContain(KEY_ENV.SMALLEST_API_KEY);
  });
});

describe('--verbose shows the outgoing audio (issue 16.7)', () => {
  it('summarised once a second: appends, bytes, mic level', async () => {
    const run = await cli(['--mock', '--verbose', '--input', utterance, '--output', join(dir, 'verbose.wav'), '--trailing-silence', '1200']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').filter((line) => / appends · /.test(line));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toMatch(/→ .*\b(4[5-9]|5[0-5]) appends · [\d ]+ B · mic (−\d+ dB|silent)$/);
    expect(lines.some((line) => /mic −\d+ dB/.test(line))).toBe(true);
  });
});
