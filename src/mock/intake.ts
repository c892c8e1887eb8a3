/**
 * Reads one client text frame the way the simulator's server does: strictly, through
 * `decodeClientFrame`, with the documented leniencies (hydra-protocol §2.2, §2.6, §10.7–10.10, §10.23).
 */
import type { ClientEvent as ClientEventType, SessionConfig as SessionConfigType } from '../protocol.js';
import { CLIENT_EVENT_TYPES, ClientEvent, decodeClientFrame, SessionConfig } from '../protocol-client.js';
import { errorFrame } from './frames.js';
import type { ServerEventOf } from '../protocol.js';

/** A frame the session should act on, or the error to answer with. */
export type Intake =
  | { kind: 'event'; event: ClientEventType; raw: Record<string, unknown>; rejected?: ServerEventOf<'error'> }
  | { kind: 'error'; frame: ServerEventOf<'error'>; raw?: Record<string, unknown> };

const CONFIG_KEYS: readonly (keyof SessionConfigType)[] = ['instructions', 'voice', 'tools', 'generate_initial_response'];
/** session.update keys that exist but are frozen at the handshake (§2.6): ignored, never echoed (§10.23). */
const FROZEN_KEYS = ['instructions', 'voice', 'generate_initial_response', 'input_audio_format', 'input_audio_sample_rate', 'output_audio_format', 'output_audio_sample_rate'];

/** Minimum append size, from the documented example "audio frame too small (40 bytes, need 320)" (§3.1, §10.10). */
export const MIN_AUDIO_BYTES = 320;

/**
 * Deepest nesting a frame may have. JSON.parse copes with any depth, but checking and re-encoding
 * a frame recurse: a client's `[[[[…]]]]` 200 000 levels deep must cost it an error, not the
 * simulator its stack (every session of `simulate` with it). Real tool schemas nest a few levels.
 */
export const MAX_FRAME_DEPTH = 256;

/** Parse, then validate. Never throws. */
export function readClientFrame(text: string): Intake {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'error', frame: errorFrame('invalid_frame', 'frame is not valid JSON') }; // §10.8
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'error', frame: errorFrame('invalid_request_error', 'frame must be a JSON object with a string "type"', { param: 'type' }) };
  }
  const raw = withoutNulls(value as Record<string, unknown>);
  const eventId = typeof raw.event_id === 'string' ? raw.event_id : undefined;
  if (typeof raw.type !== 'string') {
    return { kind: 'error', raw, frame: errorFrame('invalid_request_error', 'missing string field "type"', { param: 'type', eventId }) };
  }
  if (nestingDepth(text) > MAX_FRAME_DEPTH) {
    const frame = errorFrame('invalid_frame', `${raw.type}: frame nests deeper than ${MAX_FRAME_DEPTH} levels`, { eventId });
    // A configure still configures (with its flat fields; tools are where the depth is).
    if (raw.type !== 'session.configure') return { kind: 'error', raw, frame };
    const session = isRecord(raw.session) ? raw.session : {};
    const flat = Object.fromEntries(Object.entries(session).filter(([, field]) => typeof field !== 'object'));
    return { kind: 'event', event: salvageConfigure({ session: flat }, eventId), raw, rejected: frame };
  }
  const lenient = withoutTolerated(raw);
  const decoded = decodeClientFrame(JSON.stringify(lenient));
  if (decoded.kind === 'event') return { kind: 'event', event: decoded.event, raw };
  if (decoded.kind === 'invalid' && !(CLIENT_EVENT_TYPES as readonly string[]).includes(raw.type)) {
    return { kind: 'error', raw, frame: errorFrame('invalid_frame', `unknown event type "${raw.type}"`, { param: 'type', eventId }) }; // §10.7
  }
  const result = ClientEvent.safeParse(lenient);
  const issues = result.success ? [] : result.error.issues;
  const problem = decoded.kind === 'invalid' ? decoded.problem : 'invalid frame';
  const first = issues[0];
  const param = first ? [raw.type, ...first.path.map(String), ...(first.code === 'unrecognized_keys' ? [first.keys[0] ?? ''] : [])].join('.') : undefined;
  // §6.2: unknown keys are rejected as invalid_frame (documented for session.update); wrong types are invalid_request_error.
  const code = issues.length > 0 && issues.every((issue) => issue.code === 'unrecognized_keys') ? 'invalid_frame' : 'invalid_request_error';
  const frame = errorFrame(code, `${raw.type}: ${problem}`, { ...(param ? { param } : {}), eventId });
  // A configure is never left hanging: the error, then the session configured with the fields that were valid.
  if (raw.type === 'session.configure') return { kind: 'event', event: salvageConfigure(lenient, eventId), raw, rejected: frame };
  return { kind: 'error', raw, frame };
}

/** The valid part of an invalid session.configure: each documented field that validates on its own. */
function salvageConfigure(lenient: Record<string, unknown>, eventId: string | undefined): Extract<ClientEventType, { type: 'session.configure' }> {
  const given = isRecord(lenient.session) ? lenient.session : {};
  const session: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    if (given[key] !== undefined && SessionConfig.safeParse({ [key]: given[key] }).success) session[key] = given[key];
  }
  return { type: 'session.configure', ...(eventId !== undefined ? { event_id: eventId } : {}), session: session as SessionConfigType };
}

/** How deeply arrays and objects nest in JSON `text` (brackets inside strings do not count). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (code === 0x5d || code === 0x7d) depth--;
  }
  return deepest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `null` means absent (Smallest's Python SDK sends every optional field it was not given as null):
 * on the envelope, the session, each tool, the item and its content parts. Deeper values (a tool's
 * JSON Schema) are left alone.
 */
function withoutNulls(raw: Record<string, unknown>): Record<string, unknown> {
  const strip = (value: unknown): unknown => (isRecord(value) ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) : value);
  const out = strip(raw) as Record<string, unknown>;
  const nested = (key: string, list: string): void => {
    const value = strip(out[key]);
    if (!isRecord(value)) return;
    if (Array.isArray(value[list])) value[list] = value[list].map(strip);
    out[key] = value;
  };
  nested('session', 'tools');
  nested('item', 'content');
  return out;
}

/** Drops what the real server ignores: unknown keys inside session.configure (§2.2), frozen keys in session.update (§10.23). */
function withoutTolerated(raw: Record<string, unknown>): Record<string, unknown> {
  const session = raw.session;
  if (typeof session !== 'object' || session === null || Array.isArray(session)) return raw;
  const entries = Object.entries(session as Record<string, unknown>);
  if (raw.type === 'session.configure') {
    return { ...raw, session: Object.fromEntries(entries.filter(([key]) => (CONFIG_KEYS as string[]).includes(key))) };
  }
  if (raw.type === 'session.update') {
    return { ...raw, session: Object.fromEntries(entries.filter(([key]) => !FROZEN_KEYS.includes(key))) };
  }
  return raw;
}

/** §10.10: bad base64, odd length or < 320 bytes → the reason; otherwise the PCM. */
export function decodeAppendAudio(audio: string): { pcm: Buffer } | { problem: string } {
  if (audio.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(audio)) return { problem: 'audio is not valid base64' };
  const pcm = Buffer.from(audio, 'base64');
  if (pcm.length % 2 !== 0) return { problem: `audio is not PCM16 (${pcm.length} bytes is an odd length)` };
  if (pcm.length < MIN_AUDIO_BYTES) return { problem: `audio frame too small (${pcm.length} bytes, need ${MIN_AUDIO_BYTES})` };
  return { pcm };
}
