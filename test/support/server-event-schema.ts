/**
 * The oracle for src/protocol-server.ts: the server → client frames of hydra-protocol.md §7.2 as zod
 * schemas, read leniently (extra keys kept; an optional field that is null or unusable dropped with a
 * note). This was the client's decoder until it was written by hand to keep zod out of a client
 * session; test/protocol-decode.test.ts holds the hand-written one to the same results.
 */
import { z } from 'zod';
import type { ServerEvent } from '../../src/protocol.js';

/** Notes about optional fields the lenient decoder dropped, collected while one frame is decoded. */
let droppedFields: string[] = [];

/** A short, printable picture of a value the decoder could not use. */
function sketch(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'an array' : value === null ? 'null' : value === undefined ? 'missing' : typeof value === 'object' ? 'an object' : String(value);
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}

/**
 * An optional field read leniently: null counts as absent; a value of the wrong shape is dropped
 * (with a note naming `field`) rather than making the whole frame malformed.
 */
function lax<T extends z.ZodType>(field: string, schema: T) {
  return z
    .unknown()
    .transform((value): z.output<T> | undefined => {
      if (value === undefined || value === null) return undefined;
      const result = schema.safeParse(value);
      if (result.success) return result.data;
      droppedFields.push(`${field} (${sketch(value)})`);
      return undefined;
    })
    .optional();
}

/** Parses with the schema; the notes of the optional fields it dropped come back beside the result. */
export function parseWithSchema(value: unknown): { success: true; data: z.output<typeof ServerEventSchema>; dropped: string[] } | { success: false; issues: string[] } {
  droppedFields = [];
  const result = ServerEventSchema.safeParse(value);
  const dropped = droppedFields;
  droppedFields = [];
  return result.success ? { success: true, data: result.data, dropped } : { success: false, issues: result.error.issues.map((issue) => issue.path.join('.')) };
}

const ContentPart = z.looseObject({
  type: lax('content.type', z.enum(['input_audio', 'input_text', 'output_audio', 'output_text'])),
  text: lax('content.text', z.string()),
});

/** The flat conversation item of §2.7 as the server sends it: every field optional, each read leniently. */
const ConversationItem = z.looseObject({
  id: lax('item.id', z.string()),
  type: lax('item.type', z.enum(['message', 'function_call', 'function_call_output'])),
  role: lax('item.role', z.enum(['user', 'assistant', 'system'])),
  status: lax('item.status', z.enum(['in_progress', 'completed', 'incomplete'])),
  content: lax('item.content', z.array(ContentPart)),
  call_id: lax('item.call_id', z.string()),
  name: lax('item.name', z.string()),
  arguments: lax('item.arguments', z.string()),
  output: lax('item.output', z.string()),
});

/** A sample rate: a positive integer, also when sent as a string ("48000"); anything else is dropped with a note. */
const SampleRate = z.union([z.number(), z.string().regex(/^\s*\d+\s*$/)]).transform((value, ctx) => {
  const rate = Number(value);
  if (!Number.isSafeInteger(rate) || rate < 1000 || rate > 384000) {
    ctx.addIssue({ code: 'custom', message: 'not a sample rate' });
    return z.NEVER;
  }
  return rate;
});

/** A server event: its `type`, the optional `event_id` every event may carry (§6.4), then its own fields. */
function serverEvent<T extends string, S extends z.core.$ZodLooseShape>(type: T, fields: S) {
  return z.looseObject({ type: z.literal(type), event_id: lax('event_id', z.string()), ...fields });
}

const Warning = serverEvent('warning', {
  // §10.2: the envelope is unpublished; accept a nested `warning` object or top-level code/message.
  warning: lax('warning', z.looseObject({ code: lax('warning.code', z.string()), message: lax('warning.message', z.string()) })),
  code: lax('code', z.string()),
  message: lax('message', z.string()),
});
const SessionCreated = serverEvent('session.created', { session_id: z.string() });
const ConfiguredSession = z.looseObject({
  instructions: lax('session.instructions', z.string()),
  voice: lax('session.voice', z.string()),
  tools: lax('session.tools', z.array(z.unknown())),
  generate_initial_response: lax('session.generate_initial_response', z.boolean()),
  input_audio_format: lax('session.input_audio_format', z.string()),
  input_audio_sample_rate: lax('session.input_audio_sample_rate', SampleRate),
  output_audio_format: lax('session.output_audio_format', z.string()),
  output_audio_sample_rate: lax('session.output_audio_sample_rate', SampleRate),
});
const SessionConfigured = serverEvent('session.configured', {
  session: lax('session', ConfiguredSession),
});
const SessionUpdated = serverEvent('session.updated', {
  session: lax('session', z.looseObject({ tools: lax('session.tools', z.array(z.unknown())) })),
});
const SpeechStarted = serverEvent('input_audio_buffer.speech_started', {
  audio_start_ms: lax('audio_start_ms', z.number()),
  item_id: lax('item_id', z.string()),
});
const SpeechStopped = serverEvent('input_audio_buffer.speech_stopped', {
  audio_end_ms: lax('audio_end_ms', z.number()),
  item_id: lax('item_id', z.string()),
});
/** conversation.item.added and …done carry the same fields. */
const itemFields = { previous_item_id: lax('previous_item_id', z.string()), item: ConversationItem };
const ItemAdded = serverEvent('conversation.item.added', itemFields);
const ItemDone = serverEvent('conversation.item.done', itemFields);
const ResponseCreated = serverEvent('response.created', {
  response: z.looseObject({ id: z.string(), status: lax('response.status', z.string()) }),
});
/** Where an audio part belongs: its response (required, audio is played per response) and item. */
const audioPartFields = {
  response_id: z.string(),
  item_id: lax('item_id', z.string()),
  output_index: lax('output_index', z.number()),
  content_index: lax('content_index', z.number()),
};
const AudioDelta = serverEvent('response.output_audio.delta', { ...audioPartFields, delta: z.string() });
const AudioDone = serverEvent('response.output_audio.done', audioPartFields);
const TranscriptDelta = serverEvent('response.output_audio_transcript.delta', {
  response_id: lax('response_id', z.string()),
  item_id: lax('item_id', z.string()),
  delta: z.string(),
});
const ArgumentsDelta = serverEvent('response.function_call_arguments.delta', {
  response_id: lax('response_id', z.string()),
  call_id: z.string(),
  name: lax('name', z.string()),
  delta: z.string(),
  item_id: lax('item_id', z.string()),
  output_index: lax('output_index', z.number()),
});
/** Arguments as a JSON string (§5.3); a server that sends the parsed object gets it re-serialised. */
const ArgumentsText = z.union([z.string(), z.unknown().refine((value) => value !== undefined).transform((value) => JSON.stringify(value))]);
const ArgumentsDone = serverEvent('response.function_call_arguments.done', {
  response_id: lax('response_id', z.string()),
  call_id: z.string(),
  /** Missing or unusable: the name streamed with the deltas is used. */
  name: lax('name', z.string()),
  arguments: ArgumentsText,
  item_id: lax('item_id', z.string()),
  output_index: lax('output_index', z.number()),
});
const Usage = z.looseObject({
  input_tokens: lax('usage.input_tokens', z.number()),
  output_tokens: lax('usage.output_tokens', z.number()),
  total_tokens: lax('usage.total_tokens', z.number()),
});
/**
 * §4: the documented statuses; an unknown or missing one reads as `incomplete` (the response is over
 * either way). Optional since the differential test found that a missing status made the whole
 * response.done invalid, against this intent (the response then never ended).
 */
const ResponseStatus = z
  .unknown()
  .optional()
  .transform((value): 'completed' | 'cancelled' | 'incomplete' | 'failed' => {
    if (value === 'completed' || value === 'cancelled' || value === 'incomplete' || value === 'failed') return value;
    droppedFields.push(`response.status (${sketch(value)})`);
    return 'incomplete';
  });
const ResponseDone = serverEvent('response.done', {
  response: z.looseObject({
    id: z.string(),
    status: ResponseStatus,
    status_details: lax(
      'response.status_details',
      z.looseObject({
        reason: lax('status_details.reason', z.string()),
        type: lax('status_details.type', z.string()),
        error: lax('status_details.error', z.looseObject({ code: lax('error.code', z.string()), type: lax('error.type', z.string()) })),
      }),
    ),
    output: lax('response.output', z.array(ConversationItem)),
    usage: lax('response.usage', Usage),
  }),
});
const ErrorEvent = serverEvent('error', {
  error: z.looseObject({
    type: lax('error.type', z.string()),
    code: lax('error.code', z.string()),
    message: lax('error.message', z.string()),
    param: lax('error.param', z.string()),
    event_id: lax('error.event_id', z.string()),
  }),
});

export const ServerEventSchema = z.discriminatedUnion('type', [
  Warning,
  SessionCreated,
  SessionConfigured,
  SessionUpdated,
  SpeechStarted,
  SpeechStopped,
  ItemAdded,
  ItemDone,
  ResponseCreated,
  AudioDelta,
  AudioDone,
  TranscriptDelta,
  ArgumentsDelta,
  ArgumentsDone,
  ResponseDone,
  ErrorEvent,
]);

// The hand-written types of src/protocol-server.ts are exactly what this schema outputs (a compile error otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(): T | undefined => undefined;
same<Same<z.output<typeof ServerEventSchema>, ServerEvent>>();
