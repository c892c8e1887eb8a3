/**
 * The Hydra S2S wire contract (hydra-protocol.md §7), both directions: the client frames' types and
 * builders here, the server frames' types and the client's lenient decoder in protocol-server.ts
 * (re-exported). The simulator reads client frames strictly with the zod schemas of
 * protocol-client.ts, which the types below must match (checked at compile time there). Nothing here
 * loads zod: a client session never does. Pure: no I/O.
 */
import { decodeServerEvent, type ServerEvent } from './protocol-server.js';

export {
  DEFAULT_OUTPUT_RATE,
  droppedFieldsOf,
  SERVER_EVENT_TYPES,
  warningDetails,
  type ConversationItem,
  type ServerEvent,
  type ServerEventOf,
} from './protocol-server.js';

// ── Client → server (§7.1) ───────────────────────────────────────────────────

/** A function tool as declared in session.configure / session.update (§5.1). */
export type Tool = { type: 'function'; name: string; description?: string; parameters?: Record<string, unknown> };

/** The documented session.configure keys (§2.2). */
export type SessionConfig = { instructions?: string; voice?: string; tools?: Tool[]; generate_initial_response?: boolean };

/** Client-side item for conversation.item.create. */
type ClientItem = {
  id?: string;
  type: 'message' | 'function_call' | 'function_call_output';
  role?: 'user' | 'assistant' | 'system';
  status?: 'in_progress' | 'completed' | 'incomplete';
  content?: { type: 'input_audio' | 'input_text' | 'output_audio' | 'output_text'; text?: string }[];
  call_id?: string;
  name?: string;
  arguments?: string;
  output?: string;
};

type Client<T extends string, F> = { type: T; event_id?: string } & F;
export type ClientEvent =
  | Client<'session.configure', { session: SessionConfig }>
  | Client<'session.update', { session: { tools?: Tool[] } }>
  | Client<'input_audio_buffer.append', { audio: string }>
  | Client<'conversation.item.create', { item: ClientItem }>
  | Client<'response.create', { response?: Record<string, unknown> }>
  | Client<'response.cancel', { response_id?: string }>;

// ── Decoding ─────────────────────────────────────────────────────────────────

/** What one inbound text frame turned out to be. Decoding never throws. */
export type Decoded<E> =
  | { kind: 'event'; event: E }
  | { kind: 'unknown'; type: string; raw: Record<string, unknown> }
  | { kind: 'invalid'; problem: string; type?: string };

/** A JSON object with a string `type`, or why the text is not one. */
export function parseFrame(text: string): { frame: Record<string, unknown>; type: string } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  if (nestedPast(value, MAX_FRAME_DEPTH)) return { problem: `nested more than ${MAX_FRAME_DEPTH} levels deep` };
  const frame = value as Record<string, unknown>;
  if (typeof frame.type !== 'string') return { problem: 'missing string field "type"' };
  return { frame, type: frame.type };
}

/**
 * Far deeper than any Hydra frame (a tool call's arguments object included): JSON.parse reads any
 * depth, but what handles a frame next (the decoder, JSON.stringify for logs) recurses and would
 * overflow the stack on a hostile one.
 */
const MAX_FRAME_DEPTH = 128;

/**
 * Whether parsed JSON has objects or arrays nested more than `max` deep; walked without recursion (JSON.parse
 * reads any depth). `visit` sees each object or array on the way (tools/run.ts drops `__proto__` keys there).
 */
export function nestedPast(value: unknown, max: number, visit?: (node: object) => void): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    visit?.(node);
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
  }
  return false;
}

/** Client side: lenient. Unknown types are kept (forward compatible), malformed frames get a reason. */
export function decodeServerFrame(text: string): Decoded<ServerEvent> {
  const parsed = parseFrame(text);
  if ('problem' in parsed) return { kind: 'invalid', problem: parsed.problem };
  const { frame, type } = parsed;
  const decoded = decodeServerEvent(frame as Record<string, unknown> & { type: string });
  if (decoded === null) return { kind: 'unknown', type, raw: frame };
  return 'problem' in decoded ? { kind: 'invalid', problem: decoded.problem, type } : { kind: 'event', event: decoded.event };
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
