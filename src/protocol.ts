/**
 * The Hydra S2S wire contract (hydra-protocol.md §7), both directions, as zod schemas.
 * The client reads server frames leniently (unknown types pass through, extra keys are kept);
 * the simulator reads client frames strictly (unknown keys are an error). Pure: no I/O.
 */
import { z } from 'zod';

// ── Shared shapes ────────────────────────────────────────────────────────────

/** A function tool as declared in session.configure / session.update (§5.1). */
export const Tool = z.strictObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type Tool = z.infer<typeof Tool>;

const ContentPart = z.looseObject({
  type: z.enum(['input_audio', 'input_text', 'output_audio', 'output_text']).optional(),
  text: z.string().nullable().optional(),
});

/** The flat conversation item of §2.7; every field optional. */
export const ConversationItem = z.looseObject({
  id: z.string().optional(),
  type: z.enum(['message', 'function_call', 'function_call_output']).optional(),
  role: z.enum(['user', 'assistant', 'system']).optional(),
  status: z.enum(['in_progress', 'completed', 'incomplete']).optional(),
  content: z.array(ContentPart).optional(),
  call_id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
  output: z.string().optional(),
});
export type ConversationItem = z.infer<typeof ConversationItem>;

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

export const SessionConfigure = z.strictObject({ type: z.literal('session.configure'), ...ClientBase, session: SessionConfig });
export const SessionUpdate = z.strictObject({
  type: z.literal('session.update'),
  ...ClientBase,
  session: z.strictObject({ tools: z.array(Tool).optional() }),
});
export const InputAudioBufferAppend = z.strictObject({
  type: z.literal('input_audio_buffer.append'),
  ...ClientBase,
  audio: z.string(),
});
export const ConversationItemCreate = z.strictObject({
  type: z.literal('conversation.item.create'),
  ...ClientBase,
  item: ClientItem,
});
export const ResponseCreate = z.strictObject({
  type: z.literal('response.create'),
  ...ClientBase,
  response: z.record(z.string(), z.unknown()).optional(),
});
export const ResponseCancel = z.strictObject({
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
export type ClientEventType = ClientEvent['type'];
export const CLIENT_EVENT_TYPES: readonly ClientEventType[] = ClientEvent.options.map((option) => option.shape.type.value);

// ── Server → client (§7.2) ───────────────────────────────────────────────────

const ServerBase = { event_id: z.string().optional() };

export const Warning = z.looseObject({
  type: z.literal('warning'),
  ...ServerBase,
  // §10.2: the envelope is unpublished; accept a nested `warning` object or top-level code/message.
  warning: z.looseObject({ code: z.string().optional(), message: z.string().optional() }).optional(),
  code: z.string().optional(),
  message: z.string().optional(),
});
export const SessionCreated = z.looseObject({ type: z.literal('session.created'), ...ServerBase, session_id: z.string() });
export const ConfiguredSession = z.looseObject({
  instructions: z.string().optional(),
  voice: z.string().optional(),
  tools: z.array(z.unknown()).optional(),
  generate_initial_response: z.boolean().optional(),
  input_audio_format: z.string().optional(),
  input_audio_sample_rate: z.number().int().positive().optional(),
  output_audio_format: z.string().optional(),
  output_audio_sample_rate: z.number().int().min(8000).max(192000).optional(),
});
export const SessionConfigured = z.looseObject({
  type: z.literal('session.configured'),
  ...ServerBase,
  session: ConfiguredSession.optional(),
});
export const SessionUpdated = z.looseObject({
  type: z.literal('session.updated'),
  ...ServerBase,
  session: z.looseObject({ tools: z.array(z.unknown()).optional() }).optional(),
});
export const SpeechStarted = z.looseObject({
  type: z.literal('input_audio_buffer.speech_started'),
  ...ServerBase,
  audio_start_ms: z.number().optional(),
  item_id: z.string().optional(),
});
export const SpeechStopped = z.looseObject({
  type: z.literal('input_audio_buffer.speech_stopped'),
  ...ServerBase,
  audio_end_ms: z.number().optional(),
  item_id: z.string().optional(),
});
export const ItemAdded = z.looseObject({
  type: z.literal('conversation.item.added'),
  ...ServerBase,
  previous_item_id: z.string().nullable().optional(),
  item: ConversationItem,
});
export const ItemDone = z.looseObject({
  type: z.literal('conversation.item.done'),
  ...ServerBase,
  previous_item_id: z.string().nullable().optional(),
  item: ConversationItem,
});
export const ResponseCreated = z.looseObject({
  type: z.literal('response.created'),
  ...ServerBase,
  response: z.looseObject({ id: z.string(), status: z.string().optional() }),
});
export const AudioDelta = z.looseObject({
  type: z.literal('response.output_audio.delta'),
  ...ServerBase,
  response_id: z.string(),
  item_id: z.string().optional(),
  output_index: z.number().int().optional(),
  content_index: z.number().int().optional(),
  delta: z.string(),
});
export const AudioDone = z.looseObject({
  type: z.literal('response.output_audio.done'),
  ...ServerBase,
  response_id: z.string(),
  item_id: z.string().optional(),
  output_index: z.number().int().optional(),
  content_index: z.number().int().optional(),
});
export const TranscriptDelta = z.looseObject({
  type: z.literal('response.output_audio_transcript.delta'),
  ...ServerBase,
  response_id: z.string().optional(),
  item_id: z.string().optional(),
  delta: z.string(),
});
export const ArgumentsDelta = z.looseObject({
  type: z.literal('response.function_call_arguments.delta'),
  ...ServerBase,
  response_id: z.string().optional(),
  call_id: z.string(),
  name: z.string().optional(),
  delta: z.string(),
  item_id: z.string().optional(),
  output_index: z.number().int().optional(),
});
export const ArgumentsDone = z.looseObject({
  type: z.literal('response.function_call_arguments.done'),
  ...ServerBase,
  response_id: z.string().optional(),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  item_id: z.string().optional(),
  output_index: z.number().int().optional(),
});
export const Usage = z.looseObject({
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  total_tokens: z.number().optional(),
});
export const ResponseDone = z.looseObject({
  type: z.literal('response.done'),
  ...ServerBase,
  response: z.looseObject({
    id: z.string(),
    status: z.enum(['completed', 'cancelled', 'incomplete', 'failed']),
    status_details: z
      .looseObject({
        reason: z.string().optional(),
        type: z.string().optional(),
        error: z.looseObject({ code: z.string().optional(), type: z.string().optional() }).optional(),
      })
      .optional(),
    output: z.array(ConversationItem).optional(),
    usage: Usage.optional(),
  }),
});
export const ErrorEvent = z.looseObject({
  type: z.literal('error'),
  ...ServerBase,
  error: z.looseObject({
    type: z.string().optional(),
    code: z.string().optional(),
    message: z.string().optional(),
    param: z.string().optional(),
    event_id: z.string().optional(),
  }),
});

export const ServerEvent = z.discriminatedUnion('type', [
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
export type ServerEvent = z.infer<typeof ServerEvent>;
export type ServerEventType = ServerEvent['type'];
export type ServerEventOf<T extends ServerEventType> = Extract<ServerEvent, { type: T }>;
export const SERVER_EVENT_TYPES: readonly ServerEventType[] = ServerEvent.options.map((option) => option.shape.type.value);

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
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(frame)'}: ${issue.message}`)
    .join('; ');
}

function decodeWith<E>(
  text: string,
  schema: z.ZodType<E>,
  known: readonly string[],
  unknownIsInvalid: boolean,
): Decoded<E> {
  const parsed = parseJsonObject(text);
  if ('problem' in parsed) return { kind: 'invalid', problem: parsed.problem };
  const type = parsed.value.type;
  if (typeof type !== 'string') return { kind: 'invalid', problem: 'missing string field "type"' };
  if (!known.includes(type)) {
    return unknownIsInvalid ? { kind: 'invalid', problem: `unknown type "${type}"`, type } : { kind: 'unknown', type, raw: parsed.value };
  }
  const result = schema.safeParse(parsed.value);
  if (!result.success) return { kind: 'invalid', problem: describeIssues(result.error), type };
  return { kind: 'event', event: result.data };
}

/** Client side: lenient. Unknown types are kept (forward compatible), malformed frames get a reason. */
export function decodeServerFrame(text: string): Decoded<ServerEvent> {
  return decodeWith(text, ServerEvent, SERVER_EVENT_TYPES, false);
}

/** Simulator side: strict. Unknown types and unknown keys are invalid. */
export function decodeClientFrame(text: string): Decoded<ClientEvent> {
  return decodeWith(text, ClientEvent, CLIENT_EVENT_TYPES, true);
}

/** Wire encoding is plain JSON text. */
export function encode(event: ClientEvent | ServerEvent | Record<string, unknown>): string {
  return JSON.stringify(event);
}

// ── Client frame builders ────────────────────────────────────────────────────

let clientEventCounter = 0;
/** A client event id (`evt_` + 12 hex), so server errors can point back at the frame (§6.4). */
export function clientEventId(): string {
  clientEventCounter = (clientEventCounter + 1) % 0x1000000;
  const random = Math.floor(Math.random() * 0x1000000);
  return `evt_${random.toString(16).padStart(6, '0')}${clientEventCounter.toString(16).padStart(6, '0')}`;
}

export function sessionConfigure(session: SessionConfig): ClientEvent {
  return { type: 'session.configure', event_id: clientEventId(), session };
}
export function sessionUpdate(tools: Tool[]): ClientEvent {
  return { type: 'session.update', event_id: clientEventId(), session: { tools } };
}
/** Audio frames carry no event_id: they are the bulk of traffic and nothing correlates them. */
export function appendAudio(pcm: Buffer): ClientEvent {
  return { type: 'input_audio_buffer.append', audio: pcm.toString('base64') };
}
export function toolOutput(callId: string, output: string): ClientEvent {
  return {
    type: 'conversation.item.create',
    event_id: clientEventId(),
    item: { type: 'function_call_output', call_id: callId, output },
  };
}
export function responseCreate(): ClientEvent {
  return { type: 'response.create', event_id: clientEventId() };
}
export function responseCancel(responseId?: string): ClientEvent {
  return responseId === undefined
    ? { type: 'response.cancel', event_id: clientEventId() }
    : { type: 'response.cancel', event_id: clientEventId(), response_id: responseId };
}

/** A warning's code and message, whichever envelope the server used (§10.2). */
export function warningDetails(event: ServerEventOf<'warning'>): { code: string; message: string } {
  return {
    code: event.warning?.code ?? event.code ?? 'warning',
    message: event.warning?.message ?? event.message ?? '',
  };
}
