/**
 * Builders for the frames the simulator sends, typed by the server schemas in src/protocol.ts.
 * Every frame gets a fresh `sv_…` event id. Optional keys the AsyncAPI types as strings are
 * omitted rather than sent as null (previous_item_id, content[].text).
 */
import type { ConversationItem, ServerEventOf } from '../protocol.js';
import { serverEventId } from './ids.js';

/** A fresh server event id (re-exported for frames built inline). */
export const newEventId = serverEventId;

type Item = ConversationItem;

/** The error codes the simulator emits (hydra-protocol §6.2; invalid_frame/session_ended are documented but not in the AsyncAPI enum). */
export type ErrorCode =
  | 'invalid_frame'
  | 'invalid_request_error'
  | 'invalid_audio'
  | 'tool_response_timeout'
  | 'server_full'
  | 'internal_error';

export function errorFrame(
  code: ErrorCode,
  message: string,
  extra: { param?: string; eventId?: string } = {},
): ServerEventOf<'error'> {
  const type = code === 'server_full' || code === 'internal_error' ? 'server_error' : 'invalid_request_error'; // §10.9
  return {
    type: 'error',
    event_id: serverEventId(),
    error: {
      type,
      code,
      message,
      ...(extra.param !== undefined ? { param: extra.param } : {}),
      ...(extra.eventId !== undefined ? { event_id: extra.eventId } : {}),
    },
  };
}

/** §10.2: the assumed shape of the unpublished warning envelope. */
export function deprecationWarning(model: string, migrateTo: string): ServerEventOf<'warning'> {
  return {
    type: 'warning',
    event_id: serverEventId(),
    warning: { code: 'model_deprecated', message: `model '${model}' is deprecated; use ${migrateTo}` },
  };
}

export function sessionCreated(sessionId: string): ServerEventOf<'session.created'> {
  return { type: 'session.created', event_id: serverEventId(), session_id: sessionId };
}

export function itemAdded(item: Item, previousItemId: string | undefined): ServerEventOf<'conversation.item.added'> {
  return { type: 'conversation.item.added', event_id: serverEventId(), ...previous(previousItemId), item };
}

export function itemDone(item: Item, previousItemId: string | undefined): ServerEventOf<'conversation.item.done'> {
  return { type: 'conversation.item.done', event_id: serverEventId(), ...previous(previousItemId), item };
}

function previous(previousItemId: string | undefined): { previous_item_id?: string } {
  return previousItemId === undefined ? {} : { previous_item_id: previousItemId };
}

/** A message item; `text` only when transcripts are on (§10.22). */
export function messageItem(
  id: string,
  role: 'user' | 'assistant',
  status: 'in_progress' | 'completed' | 'incomplete',
  text?: string,
): Item {
  const part = { type: role === 'user' ? ('input_audio' as const) : ('output_audio' as const), ...(text !== undefined ? { text } : {}) };
  return { id, type: 'message', role, status, content: [part] };
}

export function functionCallItem(
  id: string,
  callId: string,
  name: string,
  status: 'in_progress' | 'completed' | 'incomplete',
  args?: string,
): Item {
  return { id, type: 'function_call', role: 'assistant', status, call_id: callId, name, ...(args !== undefined ? { arguments: args } : {}) };
}

export function speechStarted(atMs: number, itemId: string): ServerEventOf<'input_audio_buffer.speech_started'> {
  return { type: 'input_audio_buffer.speech_started', event_id: serverEventId(), audio_start_ms: atMs, item_id: itemId };
}

export function speechStopped(atMs: number, itemId: string): ServerEventOf<'input_audio_buffer.speech_stopped'> {
  return { type: 'input_audio_buffer.speech_stopped', event_id: serverEventId(), audio_end_ms: atMs, item_id: itemId };
}

export function responseCreated(responseId: string): ServerEventOf<'response.created'> {
  return { type: 'response.created', event_id: serverEventId(), response: { id: responseId, status: 'in_progress' } };
}

export function audioDelta(responseId: string, itemId: string, pcm: Buffer): ServerEventOf<'response.output_audio.delta'> {
  return {
    type: 'response.output_audio.delta',
    event_id: serverEventId(),
    response_id: responseId,
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    delta: pcm.toString('base64'),
  };
}

export function audioDone(responseId: string, itemId: string): ServerEventOf<'response.output_audio.done'> {
  return { type: 'response.output_audio.done', event_id: serverEventId(), response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 };
}

export function transcriptDelta(responseId: string, itemId: string, text: string): ServerEventOf<'response.output_audio_transcript.delta'> {
  return { type: 'response.output_audio_transcript.delta', event_id: serverEventId(), response_id: responseId, item_id: itemId, delta: text };
}

export function argumentsDelta(
  responseId: string,
  callId: string,
  itemId: string,
  outputIndex: number,
  delta: string,
  name?: string,
): ServerEventOf<'response.function_call_arguments.delta'> {
  return {
    type: 'response.function_call_arguments.delta',
    event_id: serverEventId(),
    response_id: responseId,
    call_id: callId,
    ...(name !== undefined ? { name } : {}),
    delta,
    item_id: itemId,
    output_index: outputIndex,
  };
}

export function argumentsDone(
  responseId: string,
  callId: string,
  itemId: string,
  outputIndex: number,
  name: string,
  args: string,
): ServerEventOf<'response.function_call_arguments.done'> {
  return {
    type: 'response.function_call_arguments.done',
    event_id: serverEventId(),
    response_id: responseId,
    call_id: callId,
    name,
    arguments: args,
    item_id: itemId,
    output_index: outputIndex,
  };
}

/** How a response ended (§4.2). */
export type ResponseEnd =
  | { status: 'completed' }
  | { status: 'cancelled'; reason: 'interrupted' | 'client_cancelled' };

export function responseDone(
  responseId: string,
  end: ResponseEnd,
  output: Item[],
  usage: { input: number; output: number },
): ServerEventOf<'response.done'> {
  return {
    type: 'response.done',
    event_id: serverEventId(),
    response: {
      id: responseId,
      status: end.status,
      ...(end.status === 'cancelled' ? { status_details: { reason: end.reason } } : {}),
      output,
      usage: { input_tokens: usage.input, output_tokens: usage.output, total_tokens: usage.input + usage.output },
    },
  };
}
