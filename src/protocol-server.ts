/**
 * Server → client frames (hydra-protocol.md §7.2): their types, and the client's decoder for them. The
 * decoder is lenient: unknown types pass through (protocol.ts), extra keys are kept, and an optional
 * field that is null or unusable is dropped — with a note the reducer shows — instead of costing the
 * whole frame; only a missing or mistyped required field makes a frame invalid.
 *
 * Written by hand, not with zod: every inbound frame (50 audio deltas a second) goes through it, and
 * the client then never loads zod for a session (15 MB of RSS, a third of its heap). It checks the
 * freshly parsed object in place, without a copy. test/support/server-event-schema.ts states the same
 * contract as zod schemas, and test/protocol-decode.test.ts holds the two to the same result on every
 * recorded frame and on thousands of mutated ones. Pure: no I/O.
 */

/** Output rate when session.configured announces none or an unusable one (§3.2). */
export const DEFAULT_OUTPUT_RATE = 48000;

/** Keys the decoder does not know are kept, as sent (forward compatible). */
type Loose = { [key: string]: unknown };

type ContentPart = Loose & { type?: 'input_audio' | 'input_text' | 'output_audio' | 'output_text'; text?: string };

/** The flat conversation item of §2.7 as the server sends it: every field optional. */
export type ConversationItem = Loose & {
  id?: string;
  type?: 'message' | 'function_call' | 'function_call_output';
  role?: 'user' | 'assistant' | 'system';
  status?: 'in_progress' | 'completed' | 'incomplete';
  content?: ContentPart[];
  call_id?: string;
  name?: string;
  arguments?: string;
  output?: string;
};

type Event<T extends string, F> = Loose & { type: T; event_id?: string } & F;
type AudioPart = { response_id: string; item_id?: string; output_index?: number; content_index?: number };
type ItemEvent = { previous_item_id?: string; item: ConversationItem };
type ResponseStatus = 'completed' | 'cancelled' | 'incomplete' | 'failed';
type Usage = Loose & { input_tokens?: number; output_tokens?: number; total_tokens?: number };

export type ServerEvent =
  | Event<'warning', { warning?: Loose & { code?: string; message?: string }; code?: string; message?: string }>
  | Event<'session.created', { session_id: string }>
  | Event<
      'session.configured',
      {
        session?: Loose & {
          instructions?: string;
          voice?: string;
          tools?: unknown[];
          generate_initial_response?: boolean;
          input_audio_format?: string;
          input_audio_sample_rate?: number;
          output_audio_format?: string;
          output_audio_sample_rate?: number;
        };
      }
    >
  | Event<'session.updated', { session?: Loose & { tools?: unknown[] } }>
  | Event<'input_audio_buffer.speech_started', { audio_start_ms?: number; item_id?: string }>
  | Event<'input_audio_buffer.speech_stopped', { audio_end_ms?: number; item_id?: string }>
  | Event<'conversation.item.added', ItemEvent>
  | Event<'conversation.item.done', ItemEvent>
  | Event<'response.created', { response: Loose & { id: string; status?: string } }>
  | Event<'response.output_audio.delta', AudioPart & { delta: string }>
  | Event<'response.output_audio.done', AudioPart>
  | Event<'response.output_audio_transcript.delta', { response_id?: string; item_id?: string; delta: string }>
  | Event<'response.function_call_arguments.delta', { response_id?: string; call_id: string; name?: string; delta: string; item_id?: string; output_index?: number }>
  | Event<'response.function_call_arguments.done', { response_id?: string; call_id: string; name?: string; arguments: string; item_id?: string; output_index?: number }>
  | Event<
      'response.done',
      {
        response: Loose & {
          id: string;
          status: ResponseStatus;
          status_details?: Loose & { reason?: string; type?: string; error?: Loose & { code?: string; type?: string } };
          output?: ConversationItem[];
          usage?: Usage;
        };
      }
    >
  | Event<'error', { error: Loose & { type?: string; code?: string; message?: string; param?: string; event_id?: string } }>;

export type ServerEventOf<T extends ServerEvent['type']> = Extract<ServerEvent, { type: T }>;

/** A warning's code and message, whichever envelope the server used (§10.2). */
export function warningDetails(event: ServerEventOf<'warning'>): { code: string; message: string } {
  return {
    code: event.warning?.code ?? event.code ?? 'warning',
    message: event.warning?.message ?? event.message ?? '',
  };
}

// ── The decoder ──────────────────────────────────────────────────────────────

/** A check returns the value to keep (possibly converted) or BAD. */
const BAD: unique symbol = Symbol('bad');
type Notes = { dropped: string[]; issues: string[] };
type Check = { expected: string; read: (value: unknown, notes: Notes, path: string) => unknown };
/** A field: its check, and for an optional field the name its note uses when it is dropped. */
type Field = { check: Check; optional: string | null };
/** An object's known fields, as a list (walked once per frame: no key iteration). */
type Shape = readonly (Field & { key: string })[];
const shapeOf = (fields: Readonly<Record<string, Field>>): Shape => Object.entries(fields).map(([key, field]) => ({ key, ...field }));

const check = (expected: string, read: Check['read']): Check => ({ expected, read });
const is = (expected: string, test: (value: unknown) => boolean): Check => check(expected, (value) => (test(value) ? value : BAD));

const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = is('string', (value) => typeof value === 'string');
const number = is('number', (value) => typeof value === 'number' && Number.isFinite(value));
const boolean = is('boolean', (value) => typeof value === 'boolean');
const anyArray = is('array', Array.isArray);
const oneOf = (...values: string[]): Check => is(values.map((v) => JSON.stringify(v)).join(' | '), (value) => values.includes(value as string));

const arrayOf = (item: Check): Check =>
  check('array', (value, notes, path) => {
    if (!Array.isArray(value)) return BAD;
    for (let i = 0; i < value.length; i += 1) {
      const kept = item.read(value[i], notes, `${path}.${i}`);
      if (kept === BAD) return BAD;
      value[i] = kept;
    }
    return value;
  });

/** An object whose known fields are checked in place; other keys are kept. */
const object = (fields: Readonly<Record<string, Field>>): Check => {
  const shape = shapeOf(fields);
  return check('object', (value, notes, path) => (isObject(value) && readShape(value, shape, notes, path) ? value : BAD));
};

/** Checks `target`'s known fields in place; false when a required one is unusable (an issue is recorded). */
function readShape(target: Loose, shape: Shape, notes: Notes, path: string): boolean {
  // JSON.parse makes "__proto__" an own key: dropped, so that no later copy (Object.assign) sets a prototype from it.
  if (Object.hasOwn(target, '__proto__')) delete target['__proto__'];
  let ok = true;
  for (let i = 0; i < shape.length; i += 1) {
    const { key, check: field, optional } = shape[i]!;
    const value = target[key];
    if (optional !== null && (value === undefined || value === null)) {
      if (value === null) delete target[key]; // null reads as absent
      continue;
    }
    const where = path === '' ? key : `${path}.${key}`;
    const issues = notes.issues.length;
    const kept = field.read(value, notes, where);
    if (kept === BAD) {
      if (optional !== null) {
        notes.dropped.push(`${optional} (${sketch(value)})`);
        delete target[key];
      } else {
        // A field inside it already said what is wrong; "expected object, received object" would not.
        if (notes.issues.length === issues) notes.issues.push(`${where}: expected ${field.expected}, received ${describeValue(value)}`);
        ok = false;
      }
    } else if (kept !== value) target[key] = kept;
  }
  return ok;
}

/** A required field. */
const must = (field: Check): Field => ({ check: field, optional: null });
/** An optional field: null counts as absent; a value of the wrong shape is dropped with a note naming `name`. */
const lax = (name: string, field: Check): Field => ({ check: field, optional: name });

/** A short, printable picture of a value the decoder could not use. */
function sketch(value: unknown): string {
  const shown = typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'an array' : value === null ? 'null' : value === undefined ? 'missing' : typeof value === 'object' ? 'an object' : String(value);
  return shown.length > 24 ? `${shown.slice(0, 24)}…` : shown;
}

function describeValue(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** A sample rate: a positive integer, also when sent as a string ("48000"). */
const sampleRate = check('sample rate', (value) => {
  if (!(typeof value === 'number' && Number.isFinite(value)) && !(typeof value === 'string' && /^\s*\d+\s*$/.test(value))) return BAD;
  const rate = Number(value);
  return Number.isSafeInteger(rate) && rate >= 1000 && rate <= 384000 ? rate : BAD;
});

/**
 * Arguments as a JSON string (§5.3); a server that sends a parsed value gets it re-serialised. Not only
 * an object: `null`, `42` or an array still make a call that is answered (the runner's error output
 * says the arguments must be an object), where a dropped frame would leave the model waiting for it.
 */
const argumentsText = check('a JSON value', (value) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? BAD)));

/** §4: the documented statuses; an unknown or missing one reads as `incomplete` (the response is over either way). */
const responseStatus = check('status', (value, notes) => {
  if (value === 'completed' || value === 'cancelled' || value === 'incomplete' || value === 'failed') return value;
  notes.dropped.push(`response.status (${sketch(value)})`);
  return 'incomplete';
});

const contentPart = object({
  type: lax('content.type', oneOf('input_audio', 'input_text', 'output_audio', 'output_text')),
  text: lax('content.text', text),
});
const conversationItem = object({
  id: lax('item.id', text),
  type: lax('item.type', oneOf('message', 'function_call', 'function_call_output')),
  role: lax('item.role', oneOf('user', 'assistant', 'system')),
  status: lax('item.status', oneOf('in_progress', 'completed', 'incomplete')),
  content: lax('item.content', arrayOf(contentPart)),
  call_id: lax('item.call_id', text),
  name: lax('item.name', text),
  arguments: lax('item.arguments', text),
  output: lax('item.output', text),
});
const itemFields = { previous_item_id: lax('previous_item_id', text), item: must(conversationItem) };
const audioPart = {
  response_id: must(text),
  item_id: lax('item_id', text),
  output_index: lax('output_index', number),
  content_index: lax('content_index', number),
};

/** Each server event's fields after `type`; every event may carry an `event_id` (§6.4). */
const FIELDS: Readonly<Record<ServerEvent['type'], Readonly<Record<string, Field>>>> = {
  warning: {
    // §10.2: the envelope is unpublished; accept a nested `warning` object or top-level code/message.
    warning: lax('warning', object({ code: lax('warning.code', text), message: lax('warning.message', text) })),
    code: lax('code', text),
    message: lax('message', text),
  },
  'session.created': { session_id: must(text) },
  'session.configured': {
    session: lax(
      'session',
      object({
        instructions: lax('session.instructions', text),
        voice: lax('session.voice', text),
        tools: lax('session.tools', anyArray),
        generate_initial_response: lax('session.generate_initial_response', boolean),
        input_audio_format: lax('session.input_audio_format', text),
        input_audio_sample_rate: lax('session.input_audio_sample_rate', sampleRate),
        output_audio_format: lax('session.output_audio_format', text),
        output_audio_sample_rate: lax('session.output_audio_sample_rate', sampleRate),
      }),
    ),
  },
  'session.updated': { session: lax('session', object({ tools: lax('session.tools', anyArray) })) },
  'input_audio_buffer.speech_started': { audio_start_ms: lax('audio_start_ms', number), item_id: lax('item_id', text) },
  'input_audio_buffer.speech_stopped': { audio_end_ms: lax('audio_end_ms', number), item_id: lax('item_id', text) },
  'conversation.item.added': itemFields,
  'conversation.item.done': itemFields,
  'response.created': { response: must(object({ id: must(text), status: lax('response.status', text) })) },
  'response.output_audio.delta': { ...audioPart, delta: must(text) },
  'response.output_audio.done': audioPart,
  'response.output_audio_transcript.delta': { response_id: lax('response_id', text), item_id: lax('item_id', text), delta: must(text) },
  'response.function_call_arguments.delta': {
    response_id: lax('response_id', text),
    call_id: must(text),
    name: lax('name', text),
    delta: must(text),
    item_id: lax('item_id', text),
    output_index: lax('output_index', number),
  },
  'response.function_call_arguments.done': {
    response_id: lax('response_id', text),
    call_id: must(text),
    /** Missing or unusable: the name streamed with the deltas is used. */
    name: lax('name', text),
    arguments: must(argumentsText),
    item_id: lax('item_id', text),
    output_index: lax('output_index', number),
  },
  'response.done': {
    response: must(
      object({
        id: must(text),
        status: must(responseStatus),
        status_details: lax(
          'response.status_details',
          object({
            reason: lax('status_details.reason', text),
            type: lax('status_details.type', text),
            error: lax('status_details.error', object({ code: lax('error.code', text), type: lax('error.type', text) })),
          }),
        ),
        output: lax('response.output', arrayOf(conversationItem)),
        usage: lax('response.usage', object({ input_tokens: lax('usage.input_tokens', number), output_tokens: lax('usage.output_tokens', number), total_tokens: lax('usage.total_tokens', number) })),
      }),
    ),
  },
  error: {
    error: must(
      object({
        type: lax('error.type', text),
        code: lax('error.code', text),
        message: lax('error.message', text),
        param: lax('error.param', text),
        event_id: lax('error.event_id', text),
      }),
    ),
  },
};

export const SERVER_EVENT_TYPES = Object.keys(FIELDS) as readonly ServerEvent['type'][];
/** Each type's fields, `event_id` (§6.4) first. */
const SHAPES = new Map<string, Shape>(SERVER_EVENT_TYPES.map((type) => [type, shapeOf({ event_id: lax('event_id', text), ...FIELDS[type] })]));

/** Where a leniently decoded event keeps the notes about the fields it dropped (not part of the JSON). */
const DROPPED = Symbol('dropped fields');

/** The optional fields the lenient decoder dropped from this event, e.g. `session.voice (null)` (empty for most). */
export function droppedFieldsOf(event: object): readonly string[] {
  return (event as { [DROPPED]?: readonly string[] })[DROPPED] ?? [];
}

/**
 * Decodes a parsed frame in place (the object becomes the event: pass a fresh one). Returns the event,
 * why it is invalid (up to three problems), or null when its `type` is not a server event type.
 */
export function decodeServerEvent(frame: Loose & { type: string }): { event: ServerEvent } | { problem: string } | null {
  const shape = SHAPES.get(frame.type);
  if (shape === undefined) return null;
  const notes: Notes = { dropped: [], issues: [] };
  if (!readShape(frame, shape, notes, '')) return { problem: notes.issues.slice(0, 3).join('; ') };
  if (notes.dropped.length > 0) Object.defineProperty(frame, DROPPED, { value: notes.dropped, enumerable: false });
  return { event: frame as ServerEvent };
}
