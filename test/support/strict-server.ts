/**
 * Test support: a strict, independent Hydra server, written from /work/shared/hydra-protocol.md and
 * Smallest's AsyncAPI spec alone. It imports nothing of the client nor of the simulator (src/mock,
 * src/protocol*.ts): where the two were built to agree, this one holds the client to the documents.
 *
 * It checks every frame the client sends and records each breach in `violations` (tests assert none):
 * the URL (§1.1), text JSON frames only (§1.3), the schema and no undocumented keys (AsyncAPI, §7.1),
 * event_id a unique string (§1.3), session.configure first and once (§2.2), no audio before
 * session.configured (§2.2), audio valid base64 PCM16 of 10–40 ms frames paced at real time (§3.1,
 * §6.2, §10.10/11), one function_call_output per call and one debounced response.create after the
 * last (§5.4), the same configure on a new connection (§1.5), the client's close code (§1.6).
 *
 * Turns are found by a small energy VAD on the audio clock; what the server does then is the test's
 * `plan`. `hooks` let a test be the hostile server at each step.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Ajv, type ValidateFunction } from 'ajv';
import { WebSocket, WebSocketServer } from 'ws';
import { parse } from 'yaml';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON / YAML is untyped by nature
type Json = Record<string, any>;

const PATH = '/waves/v1/s2s';
const MODELS = ['hydra', 'hydra-v1.0', 'hydra-v1.1'];
const OUT_RATE = 48_000;
/** §3.1: 10 ms is the documented minimum (invalid_audio example), 40 ms the recommended maximum. */
const MIN_AUDIO_BYTES = 320;
const MAX_AUDIO_BYTES = 1280;
/**
 * §3.1/§10.11: audio must be paced at real time. A credit of this many ms, refilled by the wall clock:
 * a burst beyond it is a breach (a stall of this server's own event loop followed by a backlog is not).
 */
const AHEAD_LIMIT_MS = 1500;
/** §5.4: "about 200 ms" after the last output; less than this is no debounce at all. */
const MIN_DEBOUNCE_MS = 100;
/** §2.3: the voices of each model tag (May 2026 for `hydra`; the AsyncAPI rosters for the others). */
const ROSTERS: Record<string, string[]> = {
  hydra: ['wren', 'sloane', 'marlowe', 'reed', 'knox', 'tate'],
  'hydra-v1.0': ['vaughn', 'brooks', 'cole', 'hayes', 'pierce', 'sterling', 'ellis', 'lane', 'quinn', 'arden', 'rowan', 'blair', 'emery', 'sawyer'],
  'hydra-v1.1': ['zoe', 'maya', 'elena', 'ivy', 'grace', 'alex', 'aria', 'leo', 'sam', 'kai'],
};
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** What the server does once the VAD ends a user turn. */
export type TurnPlan =
  | { kind: 'reply'; ms?: number; paced?: boolean }
  /** `doneLate`: the tool-calling response's response.done comes only with the narration (§5.2 leaves it open). */
  | { kind: 'tool'; calls: { name: string; arguments: Record<string, unknown> }[]; replyMs?: number; doneLate?: boolean }
  | { kind: 'silent' }
  | { kind: 'custom'; run(conn: StrictConnection): void };

export type StrictConnection = {
  readonly index: number;
  readonly socket: WebSocket;
  /** Sends a server event, with a fresh `sv_` event_id unless it has one. */
  send(event: Json): void;
  /** Sends raw bytes/text as they are. */
  raw(data: string | Buffer, binary?: boolean): void;
  /** From now on the server sends nothing by itself (a test's own `send`/`raw` still go out). */
  mute(): void;
  /** A documented reply of `ms` of 48 kHz audio (response.created … response.done). */
  reply(ms: number, paced?: boolean): Promise<void>;
  readonly received: Json[];
};

export type StrictHooks = {
  /** Before session.created; return true to take over (session.created is then not sent). */
  open?(conn: StrictConnection): boolean | void;
  /** On session.configure; return true to take over (session.configured is then not sent). */
  configure?(conn: StrictConnection, frame: Json): boolean | void;
  /** After speech_started was sent. */
  speechStarted?(conn: StrictConnection): void;
};

export type StrictOptions = {
  apiKey: string;
  plan?: (turn: number, connection: number) => TurnPlan;
  hooks?: StrictHooks;
  /** The output rate session.configured announces (and replies use) on each connection; 48 000 by default. */
  outputRate?: (connection: number) => number;
};

export type StrictServer = {
  url: string;
  violations: string[];
  connections: StrictConnection[];
  /** The close code each connection got from the client (1005: none given, 1006: no close frame). */
  closes: number[];
  /** Resolves when `n` connections have closed. */
  closed(n: number): Promise<void>;
  close(): Promise<void>;
};

// ── The schema: AsyncAPI payloads + the keys each object may carry ──────────

const spec = parse(readFileSync(new URL('../fixtures/hydra-ws.asyncapi.yaml', import.meta.url), 'utf8')) as Json;
// §2.3: the spec's voice enum lacks the May 2026 roster of ?model=hydra (checked per model below).
(spec.components.schemas.SessionConfig.properties.voice.enum as string[]).push('wren', 'sloane', 'marlowe', 'reed', 'knox', 'tate');
const CLIENT_MESSAGES: Record<string, string> = {
  'session.configure': 'sessionConfigure',
  'session.update': 'sessionUpdate',
  'input_audio_buffer.append': 'inputAudioBufferAppend',
  'conversation.item.create': 'conversationItemCreate',
  'response.create': 'responseCreate',
  'response.cancel': 'responseCancel',
};
const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
ajv.addSchema(spec, 'hydra');
const validators = new Map<string, ValidateFunction>(
  Object.entries(CLIENT_MESSAGES).map(([type, name]) => [type, ajv.compile({ $ref: `hydra#/channels/hydraSession/messages/${name}/payload` })]),
);

function resolve(schema: Json): Json {
  if (typeof schema.$ref !== 'string') return schema;
  return schema.$ref.split('/').slice(1).reduce((node: Json, key: string) => node[key], spec) as Json;
}

/** Keys present in `value` that `schema` does not list (recursively; `parameters` is free JSON Schema). */
function undocumentedKeys(value: unknown, schema: Json, path: string, out: string[]): void {
  const node = resolve(schema);
  if (Array.isArray(value) && node.items) value.forEach((v, i) => undocumentedKeys(v, node.items as Json, `${path}[${i}]`, out));
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !node.properties) return;
  for (const [key, inner] of Object.entries(value)) {
    // §1.3/§7.1: every client frame may carry an event_id (the spec forgets it on some).
    if (path === '' && key === 'event_id') continue;
    const sub = (node.properties as Json)[key] as Json | undefined;
    if (sub === undefined) out.push(`${path}/${key}`);
    else if (key !== 'parameters') undocumentedKeys(inner, sub, `${path}/${key}`, out);
  }
}

// ── The server ──────────────────────────────────────────────────────────────

const svId = (): string => `sv_${randomBytes(8).toString('hex')}`;

function rms(pcm: Buffer): number {
  let sum = 0;
  const n = pcm.length >> 1;
  for (let i = 0; i < n; i += 1) sum += pcm.readInt16LE(i * 2) ** 2;
  return n === 0 ? 0 : Math.sqrt(sum / n);
}

function replyAudio(ms: number, rate: number): Buffer {
  const samples = Math.round((ms / 1000) * rate);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i += 1) pcm.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 330 * i) / rate)), i * 2);
  return pcm;
}

export async function startStrictServer(options: StrictOptions): Promise<StrictServer> {
  const violations: string[] = [];
  const connections: StrictConnection[] = [];
  const closes: number[] = [];
  const closeWaiters: (() => void)[] = [];
  let firstConfigure: string | null = null;

  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, status?: number) => void) => {
      const url = new URL(info.req.url ?? '/', 'http://x');
      const problems: string[] = [];
      if (url.pathname !== PATH) problems.push(`path ${url.pathname}`);
      const model = url.searchParams.get('model');
      if (model === null || !MODELS.includes(model)) problems.push(`model=${String(model)}`);
      for (const key of url.searchParams.keys()) if (key !== 'model' && key !== 'api_key') problems.push(`undocumented query parameter ${key}`);
      if (url.searchParams.getAll('model').length > 1 || url.searchParams.getAll('api_key').length > 1) problems.push('a repeated query parameter');
      if (problems.length > 0) violations.push(`upgrade: ${problems.join(', ')}`);
      // §1.2: a wrong key is HTTP 401 at the upgrade, no socket.
      done(url.searchParams.get('api_key') === options.apiKey, 401);
    },
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));

  wss.on('connection', (socket, request) => {
    const index = connections.length;
    const model = new URL(request.url ?? '/', 'http://x').searchParams.get('model') ?? 'hydra-v1.1';
    const rate = options.outputRate?.(index) ?? OUT_RATE;
    const say = (problem: string): void => void violations.push(`connection ${index}: ${problem}`);
    const received: Json[] = [];
    const eventIds = new Set<string>();
    let configured = false;
    let configureSeen = false;
    let audioMs = 0;
    let credit = AHEAD_LIMIT_MS;
    let lastAudioAt = 0;
    let ahead = false;
    // VAD on the audio clock.
    let speaking = false;
    let quietMs = 0;
    let turn = 0;
    let responding: { id: string; cancelled: boolean } | null = null;
    // Tool turn bookkeeping (§5.4).
    let awaitingOutputs = new Set<string>();
    let answered = new Set<string>();
    let lastOutputAt = 0;
    let narrationMs = 0;
    let responseCreateExpected = false;
    let muted = false;

    const conn: StrictConnection = {
      index,
      socket,
      received,
      send: (event) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ event_id: svId(), ...event })),
      mute: () => void (muted = true),
      raw: (data, binary = false) => socket.readyState === WebSocket.OPEN && socket.send(data, { binary }),
      reply: (ms, paced = false) => reply(ms, paced),
    };
    connections.push(conn);

    const emit = (event: Json): void => {
      if (!muted) conn.send(event);
    };

    async function reply(ms: number, paced: boolean): Promise<void> {
      const id = `resp_${randomBytes(4).toString('hex')}`;
      const item = `item_${randomBytes(4).toString('hex')}`;
      responding = { id, cancelled: false };
      emit({ type: 'response.created', response: { id, status: 'in_progress' } });
      emit({ type: 'conversation.item.added', item: { id: item, type: 'message', role: 'assistant', status: 'in_progress', content: [{ type: 'output_audio', text: null }] } });
      const audio = replyAudio(ms, rate);
      const chunk = (rate / 1000) * 40 * 2;
      for (let at = 0; at < audio.length; at += chunk) {
        if (responding?.id !== id || responding.cancelled) return;
        emit({ type: 'response.output_audio.delta', response_id: id, item_id: item, output_index: 0, content_index: 0, delta: audio.subarray(at, at + chunk).toString('base64') });
        if (paced) await new Promise((resolve) => setTimeout(resolve, 40));
      }
      if (responding?.id !== id) return;
      responding = null;
      emit({ type: 'response.output_audio.done', response_id: id, item_id: item, output_index: 0, content_index: 0 });
      emit({ type: 'conversation.item.done', item: { id: item, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_audio', text: null }] } });
      emit({ type: 'response.done', response: { id, status: 'completed', output: [{ id: item, type: 'message', role: 'assistant', status: 'completed' }] } });
    }

    let lateDone: Json | null = null;

    function toolTurn(calls: { name: string; arguments: Record<string, unknown> }[], replyMs: number, doneLate: boolean): void {
      const id = `resp_${randomBytes(4).toString('hex')}`;
      emit({ type: 'response.created', response: { id, status: 'in_progress' } });
      const output: Json[] = [];
      for (const call of calls) {
        const callId = `call_${randomBytes(4).toString('hex')}`;
        const args = JSON.stringify(call.arguments);
        const half = Math.floor(args.length / 2);
        emit({ type: 'response.function_call_arguments.delta', response_id: id, call_id: callId, name: call.name, delta: args.slice(0, half) });
        emit({ type: 'response.function_call_arguments.delta', response_id: id, call_id: callId, delta: args.slice(half) });
        emit({ type: 'response.function_call_arguments.done', response_id: id, call_id: callId, name: call.name, arguments: args });
        awaitingOutputs.add(callId);
        output.push({ type: 'function_call', call_id: callId, name: call.name, arguments: args, status: 'completed' });
      }
      const done = { type: 'response.done', response: { id, status: 'completed', output } };
      if (doneLate) lateDone = done;
      else emit(done);
      answered = new Set();
      narrationMs = replyMs;
      responseCreateExpected = true;
    }

    function endOfTurn(): void {
      const plan = options.plan?.(turn, index) ?? { kind: 'reply' };
      turn += 1;
      if (plan.kind === 'reply') void reply(plan.ms ?? 400, plan.paced ?? false);
      else if (plan.kind === 'tool') toolTurn(plan.calls, plan.replyMs ?? 400, plan.doneLate ?? false);
      else if (plan.kind === 'custom') plan.run(conn);
    }

    function onAudio(frame: Json): void {
      if (!configured) return say('input_audio_buffer.append before session.configured (§2.2)');
      const audio = String(frame.audio);
      if (!BASE64.test(audio)) return say('audio is not valid base64 (§6.2 invalid_audio)');
      const pcm = Buffer.from(audio, 'base64');
      if (pcm.length % 2 !== 0) say(`audio frame of ${pcm.length} bytes is not whole PCM16 samples`);
      if (pcm.length < MIN_AUDIO_BYTES || pcm.length > MAX_AUDIO_BYTES) say(`audio frame of ${pcm.length} bytes (10–40 ms is ${MIN_AUDIO_BYTES}–${MAX_AUDIO_BYTES}, §3.1)`);
      const now = Date.now();
      if (lastAudioAt !== 0) credit = Math.min(AHEAD_LIMIT_MS, credit + (now - lastAudioAt));
      lastAudioAt = now;
      const ms = pcm.length / 32;
      audioMs += ms;
      credit -= ms;
      if (!ahead && credit < 0) {
        ahead = true;
        say(`audio more than ${AHEAD_LIMIT_MS} ms ahead of real time (§3.1: pace at real time)`);
      }
      const loud = rms(pcm) > 800;
      if (loud && !speaking) {
        speaking = true;
        quietMs = 0;
        if (responding) {
          // §3.5: the server aborts the running response itself.
          const cut = responding;
          cut.cancelled = true;
          responding = null;
          emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(audioMs - ms), item_id: `item_u${turn}` });
          emit({ type: 'response.done', response: { id: cut.id, status: 'cancelled', status_details: { reason: 'interrupted' } } });
        } else {
          emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(audioMs - ms), item_id: `item_u${turn}` });
        }
        options.hooks?.speechStarted?.(conn);
      } else if (speaking) {
        quietMs = loud ? 0 : quietMs + ms;
        if (quietMs >= 400) {
          speaking = false;
          const item = `item_u${turn}`;
          emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(audioMs), item_id: item });
          emit({ type: 'conversation.item.done', item: { id: item, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', text: null }] } });
          endOfTurn();
        }
      }
    }

    function onFrame(frame: Json, type: string): void {
      if (type !== 'session.configure' && !configureSeen) say(`${type} before session.configure (§2.2: configure first)`);
      switch (type) {
        case 'session.configure': {
          if (configureSeen) return say('a second session.configure (§2.2: once)');
          configureSeen = true;
          const text = JSON.stringify({ ...frame, event_id: undefined });
          if (firstConfigure === null) firstConfigure = text;
          else if (firstConfigure !== text) say(`session.configure differs from the first connection's (§1.5: replay the same state)`);
          if (options.hooks?.configure?.(conn, frame) === true) return;
          const voice = frame.session?.voice as string | undefined;
          if (voice !== undefined && !(ROSTERS[model] ?? []).includes(voice)) say(`voice ${voice} is not on the ${model} roster (§2.3)`);
          configured = true;
          emit({ type: 'session.configured', session: { ...frame.session, output_audio_sample_rate: rate } });
          // §2.5: the model speaks first, with no speech_started before it.
          if (frame.session?.generate_initial_response === true) void reply(400, false);
          return;
        }
        case 'session.update':
          if (!configured) say('session.update before session.configured (§2.6)');
          return;
        case 'input_audio_buffer.append':
          return onAudio(frame);
        case 'conversation.item.create': {
          const callId = String(frame.item?.call_id);
          if (frame.item?.type !== 'function_call_output') say(`conversation.item.create of type ${String(frame.item?.type)}`);
          if (typeof frame.item?.output !== 'string') say('function_call_output without a string output (§5.4)');
          if (answered.has(callId)) say(`a second output for ${callId}`);
          else if (!awaitingOutputs.has(callId)) say(`an output for ${callId}, which is not an open call`);
          awaitingOutputs.delete(callId);
          answered.add(callId);
          lastOutputAt = Date.now();
          return;
        }
        case 'response.create':
          if (!responseCreateExpected) return say('response.create outside a tool turn, or a second one in a turn (§5.4)');
          if (awaitingOutputs.size > 0) say(`response.create with ${awaitingOutputs.size} call(s) unanswered (§5.4)`);
          if (Date.now() - lastOutputAt < MIN_DEBOUNCE_MS) say(`response.create ${Date.now() - lastOutputAt} ms after the last output (§5.4: ~200 ms debounce)`);
          responseCreateExpected = false;
          if (lateDone !== null) emit(lateDone);
          lateDone = null;
          void reply(narrationMs, false);
          return;
        case 'response.cancel':
          if (frame.response_id !== undefined && frame.response_id !== responding?.id) say(`response.cancel for ${String(frame.response_id)}, not in flight`);
          return;
      }
    }

    socket.on('message', (data, isBinary) => {
      if (isBinary) return say('a binary frame (§1.3: JSON text only)');
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return say('a frame that is not JSON');
      }
      if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return say('a frame that is not a JSON object');
      const json = frame as Json;
      received.push(json);
      const type = String(json.type);
      const validate = validators.get(type);
      if (!validate) return say(`unknown client event type ${type}`);
      if (!validate(json)) say(`${type} fails the schema: ${(validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
      const extra: string[] = [];
      undocumentedKeys(json, (spec.channels.hydraSession.messages as Json)[CLIENT_MESSAGES[type]!].payload as Json, '', extra);
      if (extra.length > 0) say(`${type} carries undocumented keys ${extra.join(', ')}`);
      if (json.event_id !== undefined) {
        if (typeof json.event_id !== 'string' || json.event_id === '') say(`${type} has an event_id that is not a non-empty string`);
        else if (eventIds.has(json.event_id)) say(`${type} repeats event_id ${json.event_id} (§1.3: unique)`);
        else eventIds.add(json.event_id);
      }
      onFrame(json, type);
    });
    socket.on('close', (code) => {
      closes.push(code);
      for (const waiter of closeWaiters.splice(0)) waiter();
    });
    socket.on('error', () => {});
    if (options.hooks?.open?.(conn) === true) return;
    conn.send({ type: 'session.created', session_id: randomUUID() });
  });

  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}${PATH}`,
    violations,
    connections,
    closes,
    closed(n) {
      return new Promise((resolve) => {
        const check = (): void => (closes.length >= n ? resolve() : void closeWaiters.push(check));
        check();
      });
    },
    close() {
      return new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      });
    },
  };
}
