/**
 * Responses in the reducer (§3–§4): which response is current, its audio, its end, and the frames
 * that name a response which never started or already ended (reported, never acted on). Pure.
 */
import { decodeAudioBase64 } from './audio/pcm.js';
import { responseCancel, type ServerEventOf } from './protocol.js';
import { dropStreaming } from './session-calls.js';
import {
  clip,
  malformed,
  MAX_REMEMBERED_RESPONSES,
  show,
  type Effect,
  type ResponseRecord,
  type Result,
  type State,
  type ToolTiming,
  type TurnClock,
} from './session-types.js';
import type { TurnMetric } from './metrics.js';

function recordOf(state: State, id: string): ResponseRecord | undefined {
  return state.responses.find((record) => record.id === id);
}

/** The responses with `record` added or replaced (bounded: the oldest are forgotten). */
function withRecord(responses: State['responses'], record: ResponseRecord): State['responses'] {
  const others = responses.filter((entry) => entry.id !== record.id);
  return [...others.slice(-(MAX_REMEMBERED_RESPONSES - 1)), record];
}

export function onResponseCreated(state: State, responseId: string): Result {
  if (recordOf(state, responseId) !== undefined) {
    return show(state, malformed('duplicate-created', 'response.created', `response ${clip(responseId)} had already started`));
  }
  const effects: Effect[] = [];
  // §3.5 [DOC]: a response.created before the previous response's output_audio.done drops the old audio.
  if (state.audioOpenResponseId !== null) effects.push({ type: 'flush-audio', reason: 'new-response' });
  effects.push({ type: 'show', note: { kind: 'response-started', responseId } });
  return {
    state: {
      ...state,
      // Responses run one at a time: arguments still streaming from an earlier one will never complete.
      calls: dropStreaming(state.calls, () => true),
      phase: 'thinking',
      responseId,
      audioOpenResponseId: null,
      awaitingReply: false,
      awaitingSince: null,
      answeredTurns: state.answeredTurns + (state.awaitingReply ? 1 : 0),
      responses: withRecord(state.responses, { id: responseId, done: false, lateNoted: false }),
    },
    effects,
  };
}

export function onAudioDelta(state: State, event: ServerEventOf<'response.output_audio.delta'>, at: number): Result {
  if (event.response_id !== state.responseId) return onStrayAudio(state, event.response_id);
  const decoded = decodeAudioBase64(event.delta);
  if ('problem' in decoded) {
    const key = decoded.problem.startsWith('odd') ? 'bad-audio:odd-bytes' : 'bad-audio:base64';
    return show(state, { kind: 'anomaly', key, message: `dropped an audio delta: ${decoded.problem}` });
  }
  const effects: Effect[] = [];
  let next: State = state;
  if (state.turn !== null) {
    effects.push({ type: 'metric', metric: turnMetric(state.turn, at) });
    next = { ...next, turn: null, turns: next.turns + 1 };
  }
  // The bulk of deltas change nothing but the audio: the state is kept as is, not copied.
  if (next.phase !== 'responding' || next.audioOpenResponseId !== event.response_id) next = { ...next, phase: 'responding', audioOpenResponseId: event.response_id };
  if (decoded.pcm.length > 0) effects.push({ type: 'play-audio', pcm: decoded.pcm, responseId: event.response_id });
  return { state: next, effects };
}

/** Audio of a response that is not the current one: late (§3.5, noted once per response) or never started (malformed). */
function onStrayAudio(state: State, responseId: string): Result {
  const record = recordOf(state, responseId);
  if (record === undefined) {
    return show(state, malformed('stale-delta', 'response.output_audio.delta', `audio for response ${clip(responseId)}, which never started`));
  }
  if (record.lateNoted) return { state, effects: [] };
  return {
    state: { ...state, responses: withRecord(state.responses, { ...record, lateNoted: true }) },
    effects: [{ type: 'show', note: { kind: 'anomaly', key: 'late-delta', message: `dropped late audio of response ${clip(responseId)}, which is no longer current` } }],
  };
}

/** Transcript text belongs to the response it names; text of another response is not shown. */
export function onTranscriptDelta(state: State, event: ServerEventOf<'response.output_audio_transcript.delta'>): Result {
  const responseId = event.response_id;
  if (responseId !== undefined && responseId !== state.responseId) {
    if (recordOf(state, responseId) !== undefined) return { state, effects: [] }; // late text of a finished or interrupted reply
    return show(state, malformed('stale-transcript', event.type, `text for response ${clip(responseId)}, which never started`));
  }
  return show(state, { kind: 'transcript', role: 'assistant', text: event.delta });
}

function turnMetric(turn: TurnClock, firstAudioAt: number): TurnMetric {
  const v2vMs = firstAudioAt - turn.speechStoppedAt;
  if (turn.firstArgsDeltaAt === undefined && turn.argsDoneAt === undefined) return { kind: 'plain', v2vMs };
  const tool: ToolTiming = {
    argsStartMs: (turn.firstArgsDeltaAt ?? turn.argsDoneAt ?? turn.speechStoppedAt) - turn.speechStoppedAt,
    argsDoneMs: (turn.argsDoneAt ?? turn.speechStoppedAt) - turn.speechStoppedAt,
    toolRunMs: turn.toolMs ?? 0,
    outputsSentMs: (turn.outputsSentAt ?? firstAudioAt) - turn.speechStoppedAt,
    responseCreateMs: (turn.responseCreateAt ?? firstAudioAt) - turn.speechStoppedAt,
    narrationStartMs: v2vMs,
  };
  return { kind: 'tool', v2vMs, tool };
}

/** The user pressed the interrupt key: cancel on the server and flush locally (§4.3). */
export function onInterrupt(state: State): Result {
  const responseId = state.responseId;
  if (responseId === null) return { state, effects: [{ type: 'flush-audio', reason: 'key' }] };
  return {
    state: { ...state, responseId: null, audioOpenResponseId: null, phase: 'listening' },
    effects: [
      { type: 'flush-audio', reason: 'key' },
      { type: 'send', event: responseCancel(responseId) },
      { type: 'show', note: { kind: 'interrupted', responseId, by: 'key' } },
    ],
  };
}

export function onResponseDone(state: State, event: ServerEventOf<'response.done'>): Result {
  const response = event.response;
  const record = recordOf(state, response.id);
  // Neither acts on anything: the current response, its audio and its streaming calls go on.
  if (record === undefined) return show(state, malformed('done-without-created', event.type, `response ${clip(response.id)} never started`));
  if (record.done) return show(state, malformed('duplicate-done', event.type, `response ${clip(response.id)} had already ended`));
  const isCurrent = response.id === state.responseId;
  const effects: Effect[] = [];
  if (isCurrent && response.status === 'cancelled') effects.push({ type: 'flush-audio', reason: 'cancelled' });
  effects.push({
    type: 'show',
    note: {
      kind: 'response-done',
      responseId: response.id,
      status: response.status,
      ...(response.status_details?.reason === undefined ? {} : { reason: response.status_details.reason }),
      ...(response.usage === undefined ? {} : { usage: response.usage }),
    },
  });
  // A finished response streams no more arguments: a call it left half-streamed (a barge-in cancelled it,
  // or the server never sent arguments.done) is dropped, or it would stay open for ever and every later
  // tool turn would wait on it. Calls of other responses are not touched.
  const calls = dropStreaming(state.calls, (call) => call.responseId === response.id || (isCurrent && call.responseId === null));
  const responses = withRecord(state.responses, { ...record, done: true });
  if (!isCurrent) return { state: { ...state, calls, responses }, effects };
  const toolsOpen = calls.size > 0;
  // The tool-calling response may end only after our response.create (§5.2 does not say when): the
  // narration asked for is still to come, and the turn's clock with it.
  const narrationAsked = state.awaitingReply;
  return {
    state: {
      ...state,
      calls,
      responses,
      responseId: null,
      audioOpenResponseId: state.audioOpenResponseId === response.id ? null : state.audioOpenResponseId,
      phase: toolsOpen ? 'running-tool' : narrationAsked ? 'thinking' : 'listening',
      // A response that ended with no audio (cancelled, failed) still answered the turn.
      turn: toolsOpen || narrationAsked ? state.turn : null,
    },
    effects,
  };
}
