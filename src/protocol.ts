/**
 * The Hydra S2S wire contract (hydra-protocol.md §7), both directions, as zod schemas: client frames
 * here, server frames in protocol-server.ts (re-exported). The client reads server frames leniently
 * (unknown types pass through, extra keys are kept, unusable optional fields are dropped with a note);
 * the simulator reads client frames strictly (unknown keys are an error). Pure: no I/O.
 */
import { z } from 'zod';
import { parseLeniently, SERVER_EVENT_TYPES, ServerEvent } from './protocol-server.js';

export {
  ConversationItem,
  DEFAULT_OUTPUT_RATE,
  droppedFieldsOf,
  SERVER_EVENT_TYPES,
  ServerEvent,
  warningDetails,
  type ServerEventOf,
} from './protocol-server.js';

// ── Shared shapes ────────────────────────────────────────────────────────────

/** A function tool as declared in session.configure / session.update (§5.1). */
export const Tool = z.strictObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type Tool = z.infer<typeof Tool>;

/** Client-side item for conversation.item.create, strict so the simulator rejects typos. */
const ClientItem = z.strictObject({
  id: z.string().optional(),
  type: z.enum(['message', 'function_call', 'function_call_output']),
  role: z.enum(['user', 'assistant', 'system']).optional(),
  status: z.enum(['in_progress', 'completed', 'incomplete']).optional(),
  content: z
    .array(z.strictObject({ type: z.enum(['input_audio', 'input_text', 'output_audio', 'output_text']), text: z.string().optional() }))
    .optional(),
  call_id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
  output: z.string().optional(),
});

// ── Client → server (§7.1) ───────────────────────────────────────────────────

const ClientBase = { event_id: z.string().optional() };

/** The documented session.configure keys; anything else is a client bug (§2.2: unknown keys are silently ignored by the server). */
export const SessionConfig = z.strictObject({
  instructions: z.string().optional(),
  voice: z.string().optional(),
  tools: z.array(Tool).optional(),
  generate_initial_response: z.boolean().optional(),
});
export type SessionConfig = z.infer<typeof SessionConfig>;

const SessionConfigure = z.strictObject({ type: z.literal('session.configure'), ...ClientBase, session: SessionConfig });
const SessionUpdate = z.strictObject({
  type: z.literal('session.update'),
  ...ClientBase,
  session: z.strictObject({ tools: z.array(Tool).optional() }),
});
const InputAudioBufferAppend = z.strictObject({
  type: z.literal('input_audio_buffer.append'),
  ...ClientBase,
  audio: z.string(),
});
const ConversationItemCreate = z.strictObject({
  type: z.literal('conversation.item.create'),
  ...ClientBase,
  item: ClientItem,
});
const ResponseCreate = z.strictObject({
  type: z.literal('response.create'),
  ...ClientBase,
  response: z.record(z.string(), z.unknown()).optional(),
});
const ResponseCancel = z.strictObject({
  type: z.literal('response.cancel'),
  ...ClientBase,
  response_id: z.string().optional(),
});

export const ClientEvent = z.discriminatedUnion('type', [
  SessionConfigure,
  SessionUpdate,
  InputAudioBufferAppend,
  ConversationItemCreate,
  ResponseCreate,
  ResponseCancel,
]);
export type ClientEvent = z.infer<typeof ClientEvent>;
type ClientEventType = ClientEvent['type'];
export const CLIENT_EVENT_TYPES: readonly ClientEventType[] = ClientEvent.options.map((option) => option.shape.type.value);

// ── Decoding ─────────────────────────────────────────────────────────────────

/** What one inbound text frame turned out to be. Decoding never throws. */
export type Decoded<E> =
  | { kind: 'event'; event: E }
  | { kind: 'unknown'; type: string; raw: Record<string, unknown> }
  | { kind: 'invalid'; problem: string; type?: string };

function parseJsonObject(text: string): { value: Record<string, unknown> } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  return { value: value as Record<string, unknown> };
}

/** Explains a zod failure in one short line: `response_id: expected string`. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(frame)'}: ${issue.message}`)
    .join('; ');
}

function decodeWith<E>(
  text: string,
  schema: z.ZodType<E>,
  known: ReadonlySet<string>,
  unknownIsInvalid: boolean,
): Decoded<E> {
  const parsed = parseJsonObject(text);
  if ('problem' in parsed) return { kind: 'invalid', problem: parsed.problem };
  const type = parsed.value.type;
  if (typeof type !== 'string') return { kind: 'invalid', problem: 'missing string field "type"' };
  if (!known.has(type)) {
    return unknownIsInvalid ? { kind: 'invalid', problem: `unknown type "${type}"`, type } : { kind: 'unknown', type, raw: parsed.value };
  }
  if (!unknownIsInvalid && isPlain(type, parsed.value)) {
    // The bulk of inbound traffic (and the barge-in signal): checked by hand, without a copy through the schema.
    return { kind: 'event', event: parsed.value as E };
  }
  const result = parseLeniently(schema, parsed.value);
  if (!result.success) return { kind: 'invalid', problem: describeIssues(result.error), type };
  return { kind: 'event', event: result.data };
}

/** Field checks of the hot server frames: `!` marks a required field; the rest are optional. */
const PLAIN_FIELDS: Readonly<Record<string, Readonly<Record<string, 'string' | 'string!' | 'number'>>>> = {
  'response.output_audio.delta': { response_id: 'string!', delta: 'string!', event_id: 'string', item_id: 'string', output_index: 'number', content_index: 'number' },
  'input_audio_buffer.speech_started': { event_id: 'string', audio_start_ms: 'number', item_id: 'string' },
};

/** A hot frame whose every known field has its documented type (anything else goes through the schema). */
function isPlain(type: string, frame: Record<string, unknown>): boolean {
  const fields = PLAIN_FIELDS[type];
  if (fields === undefined) return false;
  for (const key in fields) {
    const value = frame[key];
    const kind = fields[key];
    if (value === undefined ? kind === 'string!' : kind === 'number' ? !Number.isFinite(value) : typeof value !== 'string') return false;
  }
  return true;
}

const SERVER_TYPES: ReadonlySet<string> = new Set(SERVER_EVENT_TYPES);
const CLIENT_TYPES: ReadonlySet<string> = new Set(CLIENT_EVENT_TYPES);

/** Client side: lenient. Unknown types are kept (forward compatible), malformed frames get a reason. */
export function decodeServerFrame(text: string): Decoded<ServerEvent> {
  return decodeWith(text, ServerEvent, SERVER_TYPES, false);
}

/** Simulator side: strict. Unknown types and unknown keys are invalid. */
export function decodeClientFrame(text: string): Decoded<ClientEvent> {
  return decodeWith(text, ClientEvent, CLIENT_TYPES, true);
}

/** Wire encoding is plain JSON text. */
export function encode(event: ClientEvent | ServerEvent | Record<string, unknown>): string {
  if (event.type === 'input_audio_buffer.append' && isPlainAppend(event)) {
    // The bulk of outbound traffic: base64 text needs no JSON escaping, so it is not scanned for any.
    return `{"type":"input_audio_buffer.append","audio":"${event.audio}"}`;
  }
  return JSON.stringify(event);
}

/** An audio frame as appendAudio builds it: nothing but base64 audio (a quote or backslash means it is not). */
function isPlainAppend(event: Record<string, unknown>): event is { audio: string } {
  let keys = 0;
  for (const _key in event) keys += 1;
  return keys === 2 && typeof event.audio === 'string' && !event.audio.includes('"') && !event.audio.includes('\\');
}

// ── Client frame builders ────────────────────────────────────────────────────
// The builders are pure and add no event_id: the connection stamps one as it sends (stampEventId),
// so the reducer's effects are the same for the same inputs.

/**
 * The frame as sent: with the `n`-th event id of this connection (`evt_` + 12 hex, §6.4), so server
 * errors can point back at it. Audio frames get none: they are the bulk of traffic and nothing
 * correlates them. A frame that already has an id keeps it.
 */
export function stampEventId(event: ClientEvent, n: number): ClientEvent {
  if (event.type === 'input_audio_buffer.append' || event.event_id !== undefined) return event;
  return { ...event, event_id: `evt_${(n % 2 ** 48).toString(16).padStart(12, '0')}` };
}

export function sessionConfigure(session: SessionConfig): ClientEvent {
  return { type: 'session.configure', session };
}
export function sessionUpdate(tools: Tool[]): ClientEvent {
  return { type: 'session.update', session: { tools } };
}
export function appendAudio(pcm: Buffer): ClientEvent {
  return { type: 'input_audio_buffer.append', audio: pcm.toString('base64') };
}

const APPEND_HEAD = Buffer.from('{"type":"input_audio_buffer.append","audio":"', 'latin1');

/**
 * `encode(appendAudio(pcm))` as bytes, built in one buffer: the bulk of outbound traffic goes to the
 * socket without an event object, a text concatenation or a UTF-8 re-encoding (base64 is ASCII).
 */
export function encodeAppend(pcm: Buffer): Buffer {
  const audio = pcm.toString('base64');
  const out = Buffer.allocUnsafe(APPEND_HEAD.length + audio.length + 2);
  APPEND_HEAD.copy(out, 0);
  out.write(audio, APPEND_HEAD.length, 'latin1');
  out[out.length - 2] = 0x22; // "
  out[out.length - 1] = 0x7d; // }
  return out;
}
export function toolOutput(callId: string, output: string): ClientEvent {
  return { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } };
}
export function responseCreate(): ClientEvent {
  return { type: 'response.create' };
}
export function responseCancel(responseId?: string): ClientEvent {
  return responseId === undefined ? { type: 'response.cancel' } : { type: 'response.cancel', response_id: responseId };
}
