/**
 * The session reducer: (state, input) → { state, effects }. Pure, synchronous and deterministic — no
 * sockets, timers, devices, clocks or random ids (the connection stamps event ids as it sends); the
 * shell (chat.ts) carries out the effects. One connection = one State. Responses are handled in
 * session-responses.ts, tool calls in session-calls.ts; the vocabulary is in session-types.ts.
 */
import { droppedFieldsOf, sessionConfigure, warningDetails, type ClientEvent, type ServerEvent, type ServerEventOf } from './protocol.js';
import { hasOpenCalls, onArgumentsDelta, onArgumentsDone, onDebounceElapsed, onToolResult, supersedeCalls } from './session-calls.js';
import { onAudioDelta, onInterrupt, onResponseCreated, onResponseDone, onTranscriptDelta } from './session-responses.js';
import { DEFAULT_OUTPUT_RATE, show, type Effect, type Input, type Result, type State } from './session-types.js';

export {
  DEFAULT_OUTPUT_RATE,
  initialState,
  MAX_ARGUMENTS_CHARS,
  MAX_OPEN_CALLS,
  MAX_REMEMBERED_RESPONSES,
  MAX_TRACKED_CALLS,
  RESPONSE_CREATE_DEBOUNCE_MS,
  type Call,
  type Effect,
  type Input,
  type Note,
  type Phase,
  type State,
} from './session-types.js';

/** The one session.configure frame the shell sends after session.created (§2.2). */
export function configureFrame(state: State): ClientEvent {
  return sessionConfigure(state.config);
}

/** True when nothing is pending on the model's or the tools' side (used to end `--input` runs). */
export function isQuiet(state: State): boolean {
  return (
    state.configured &&
    !state.awaitingReply &&
    state.responseId === null &&
    !state.debouncePending &&
    !hasOpenCalls(state.calls) &&
    state.phase !== 'user-speaking'
  );
}

export function reduce(state: State, input: Input): Result {
  switch (input.type) {
    case 'server':
      return withDroppedFields(input.event, onServerEvent(state, input.event, input.at));
    case 'tool-result':
      return onToolResult(state, input);
    case 'debounce-elapsed':
      return onDebounceElapsed(state, input.token, input.at);
    case 'interrupt':
      return onInterrupt(state);
  }
}

/** Optional fields the decoder could not use were dropped, not the frame: say so once per frame type. */
function withDroppedFields(event: ServerEvent, result: Result): Result {
  const dropped = droppedFieldsOf(event);
  if (dropped.length === 0) return result;
  const shown = dropped.slice(0, 3).join(', ') + (dropped.length > 3 ? ` and ${dropped.length - 3} more` : '');
  const note: Effect = { type: 'show', note: { kind: 'anomaly', key: `dropped-fields:${event.type}`, message: `${event.type}: ignored unusable ${shown}` } };
  return { state: result.state, effects: [note, ...result.effects] };
}

function onServerEvent(state: State, event: ServerEvent, at: number): Result {
  switch (event.type) {
    case 'warning': {
      const { code, message } = warningDetails(event);
      return show(state, { kind: 'warning', code, message });
    }
    case 'session.created':
      return { state, effects: [] };
    case 'session.configured':
      return onConfigured(state, event, at);
    case 'session.updated':
      return show(state, { kind: 'tools-updated', tools: event.session?.tools?.length ?? 0 });
    case 'input_audio_buffer.speech_started':
      return onSpeechStarted(state);
    case 'input_audio_buffer.speech_stopped':
      return {
        state: { ...state, phase: 'thinking', turn: { speechStoppedAt: at }, awaitingReply: true, awaitingSince: at, heardTurns: state.heardTurns + 1 },
        effects: [{ type: 'show', note: { kind: 'speech-stopped' } }],
      };
    case 'conversation.item.added':
      return { state, effects: [] };
    case 'conversation.item.done':
      return onItemDone(state, event);
    case 'response.created':
      return onResponseCreated(state, event.response.id);
    case 'response.output_audio.delta':
      return onAudioDelta(state, event, at);
    case 'response.output_audio.done':
      return {
        state: state.audioOpenResponseId === event.response_id ? { ...state, audioOpenResponseId: null } : state,
        effects: [],
      };
    case 'response.output_audio_transcript.delta':
      return onTranscriptDelta(state, event);
    case 'response.function_call_arguments.delta':
      return onArgumentsDelta(state, event, at);
    case 'response.function_call_arguments.done':
      return onArgumentsDone(state, event, at);
    case 'response.done':
      return onResponseDone(state, event);
    case 'error':
      return show(state, {
        kind: 'server-error',
        code: event.error.code ?? event.error.type ?? 'error',
        message: event.error.message ?? '',
        ...(event.error.param === undefined ? {} : { param: event.error.param }),
      });
    default:
      event satisfies never;
      return { state, effects: [] };
  }
}

function onConfigured(state: State, event: ServerEventOf<'session.configured'>, at: number): Result {
  if (state.configured) return { state, effects: [] };
  const rate = event.session?.output_audio_sample_rate ?? DEFAULT_OUTPUT_RATE;
  const voice = event.session?.voice;
  return {
    state: {
      ...state,
      configured: true,
      phase: 'listening',
      outputSampleRate: rate,
      // A requested greeting is awaited from now on.
      awaitingSince: state.awaitingReply ? at : state.awaitingSince,
    },
    effects: [
      {
        type: 'show',
        note: { kind: 'configured', ...(voice === undefined ? {} : { voice }), outputSampleRate: rate, tools: event.session?.tools?.length ?? 0 },
      },
    ],
  };
}

/** Barge-in (§3.5): flush everything queued at once; late deltas are dropped by response_id. */
function onSpeechStarted(state: State): Result {
  const effects: Effect[] = [{ type: 'flush-audio', reason: 'speech-started' }];
  const interrupted = state.responseId;
  if (interrupted !== null) effects.push({ type: 'show', note: { kind: 'interrupted', responseId: interrupted, by: 'user' } });
  effects.push({ type: 'show', note: { kind: 'speech-started' } });
  return {
    state: { ...state, calls: supersedeCalls(state), phase: 'user-speaking', responseId: null, audioOpenResponseId: null },
    effects,
  };
}

function onItemDone(state: State, event: ServerEventOf<'conversation.item.done'>): Result {
  const item = event.item;
  const effects: Effect[] = [];
  let next = state;
  if (item.role === 'user' && item.type !== 'function_call_output') {
    if (item.status === 'incomplete') {
      // §2.7: a turn the detector rejected (noise); no response follows.
      next = { ...next, awaitingReply: false, awaitingSince: null, turn: null, phase: next.responseId ? next.phase : 'listening' };
      effects.push({ type: 'show', note: { kind: 'noise-discarded' } });
    } else {
      next = { ...next, userItems: next.userItems + 1 };
    }
  }
  for (const part of item.content ?? []) {
    if (typeof part.text === 'string' && part.text.length > 0 && (item.role === 'user' || item.role === 'assistant')) {
      effects.push({ type: 'show', note: { kind: 'transcript', role: item.role, text: part.text } });
    }
  }
  return { state: next, effects };
}
