/**
 * The session reducer: (state, input) → { state, effects }. Pure and synchronous — no sockets,
 * timers or devices; the shell (chat.ts) carries out the effects. One connection = one State.
 */
import { decodeAudioBase64 } from './audio/pcm.js';
import { HydraError } from './errors.js';
import {
  responseCancel,
  responseCreate,
  sessionConfigure,
  toolOutput,
  warningDetails,
  type ClientEvent,
  type ServerEvent,
  type ServerEventOf,
  type SessionConfig,
} from './protocol.js';
import type { ToolTiming, TurnMetric } from './metrics.js';

export type Phase =
  | 'configuring'
  | 'listening'
  | 'user-speaking'
  | 'thinking'
  | 'responding'
  | 'running-tool'
  | 'ended';

/** A tool call being assembled or run, keyed by call_id (§5.3). */
export type Call = Readonly<{
  callId: string;
  name: string;
  argumentsText: string;
  status: 'streaming' | 'running' | 'answered';
  /** Open when the user spoke again: its turn is over, so its output alone asks for no response. */
  superseded?: boolean;
}>;

/** Timestamps of the turn in progress (ms, monotonic clock) for V2V (§9.2). */
type TurnClock = Readonly<{
  speechStoppedAt: number;
  firstArgsDeltaAt?: number;
  argsDoneAt?: number;
  outputsSentAt?: number;
  responseCreateAt?: number;
  toolMs?: number;
}>;

export type State = Readonly<{
  phase: Phase;
  config: SessionConfig;
  configured: boolean;
  outputSampleRate: number;
  /** The response whose audio deltas we accept. */
  responseId: string | null;
  /** The response whose audio is still streaming (created, no output_audio.done yet). */
  audioOpenResponseId: string | null;
  /** Responses already finished: their late deltas are dropped quietly after one note. */
  staleNoted: readonly string[];
  calls: Readonly<Record<string, Call>>;
  /** Bumped each time a tool output is sent; a debounce timer only fires for the latest. */
  debounceToken: number;
  debouncePending: boolean;
  turn: TurnClock | null;
  /** A user turn (or a requested greeting) that no response has answered yet. */
  awaitingReply: boolean;
  turns: number;
  userItems: number;
}>;

/** Everything the reducer reacts to: server frames and the shell's own happenings. */
export type Input =
  | { type: 'server'; event: ServerEvent; at: number }
  | { type: 'tool-result'; callId: string; output: string; ok: boolean; durationMs: number; at: number }
  | { type: 'debounce-elapsed'; token: number; at: number }
  | { type: 'interrupt'; at: number };

/** A line for the person at the terminal; the UI decides how it looks. */
export type Note =
  | { kind: 'warning'; code: string; message: string }
  | { kind: 'server-error'; code: string; message: string; param?: string }
  | { kind: 'configured'; voice?: string; outputSampleRate: number; tools: number }
  | { kind: 'tools-updated'; tools: number }
  | { kind: 'speech-started' }
  | { kind: 'speech-stopped' }
  | { kind: 'noise-discarded' }
  | { kind: 'response-started'; responseId: string }
  | { kind: 'response-done'; responseId: string; status: string; reason?: string; usage?: Usage }
  | { kind: 'interrupted'; responseId: string; by: 'user' | 'key' }
  | { kind: 'tool-args'; callId: string; name: string; argumentsText: string }
  | { kind: 'tool-call'; callId: string; name: string; argumentsText: string }
  | { kind: 'tool-result'; callId: string; name: string; ok: boolean; output: string; durationMs: number }
  | { kind: 'transcript'; role: 'user' | 'assistant'; text: string }
  | { kind: 'anomaly'; key: string; message: string };

type Usage = { input_tokens?: number | undefined; output_tokens?: number | undefined; total_tokens?: number | undefined };

export type Effect =
  | { type: 'send'; event: ClientEvent }
  | { type: 'play-audio'; pcm: Buffer; responseId: string }
  | { type: 'flush-audio'; reason: 'speech-started' | 'new-response' | 'cancelled' | 'key' }
  | { type: 'run-tool'; callId: string; name: string; argumentsText: string }
  | { type: 'start-debounce'; token: number; ms: number }
  | { type: 'metric'; metric: TurnMetric }
  | { type: 'show'; note: Note }
  | { type: 'end'; error: HydraError };

type Result = { state: State; effects: Effect[] };

/** Debounce between the last tool output and the single response.create of a turn (§5.4). */
export const RESPONSE_CREATE_DEBOUNCE_MS = 200;
/** Output rate when session.configured announces none (§3.2). */
export const DEFAULT_OUTPUT_RATE = 48000;

/** Bounds against a hostile or broken server: tool calls open at once, and streamed argument text per call. */
export const MAX_OPEN_CALLS = 32;
export const MAX_ARGUMENTS_CHARS = 256 * 1024;

export function initialState(config: SessionConfig): State {
  return {
    phase: 'configuring',
    config,
    configured: false,
    outputSampleRate: DEFAULT_OUTPUT_RATE,
    responseId: null,
    audioOpenResponseId: null,
    staleNoted: [],
    calls: {},
    debounceToken: 0,
    debouncePending: false,
    turn: null,
    awaitingReply: config.generate_initial_response === true,
    turns: 0,
    userItems: 0,
  };
}

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
    Object.values(state.calls).every((call) => call.status === 'answered') &&
    state.phase !== 'user-speaking'
  );
}

export function reduce(state: State, input: Input): Result {
  switch (input.type) {
    case 'server':
      return onServerEvent(state, input.event, input.at);
    case 'tool-result':
      return onToolResult(state, input);
    case 'debounce-elapsed':
      return onDebounceElapsed(state, input.token, input.at);
    case 'interrupt':
      return onInterrupt(state);
  }
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
      return onConfigured(state, event);
    case 'session.updated':
      return show(state, { kind: 'tools-updated', tools: event.session?.tools?.length ?? 0 });
    case 'input_audio_buffer.speech_started':
      return onSpeechStarted(state);
    case 'input_audio_buffer.speech_stopped':
      return {
        state: { ...state, phase: 'thinking', turn: { speechStoppedAt: at }, awaitingReply: true },
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
      return show(state, { kind: 'transcript', role: 'assistant', text: event.delta });
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

function show(state: State, note: Note): Result {
  return { state, effects: [{ type: 'show', note }] };
}

function onConfigured(state: State, event: ServerEventOf<'session.configured'>): Result {
  if (state.configured) return { state, effects: [] };
  const rate = event.session?.output_audio_sample_rate ?? DEFAULT_OUTPUT_RATE;
  return {
    state: { ...state, configured: true, phase: 'listening', outputSampleRate: rate },
    effects: [
      {
        type: 'show',
        note: {
          kind: 'configured',
          ...(event.session?.voice === undefined ? {} : { voice: event.session.voice }),
          outputSampleRate: rate,
          tools: event.session?.tools?.length ?? 0,
        },
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
  const toolsOpen = Object.values(state.calls).some((call) => call.status !== 'answered') || state.debouncePending;
  const calls = toolsOpen ? Object.fromEntries(Object.entries(state.calls).map(([id, call]) => [id, { ...call, superseded: true }])) : state.calls;
  return {
    state: {
      ...state,
      calls,
      phase: 'user-speaking',
      responseId: null,
      audioOpenResponseId: null,
      staleNoted: interrupted === null ? state.staleNoted : remember(state.staleNoted, interrupted),
    },
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
      next = { ...next, awaitingReply: false, turn: null, phase: next.responseId ? next.phase : 'listening' };
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

function onResponseCreated(state: State, responseId: string): Result {
  const effects: Effect[] = [];
  // §3.5 [DOC]: a response.created before the previous response's output_audio.done drops the old audio.
  if (state.audioOpenResponseId !== null && state.audioOpenResponseId !== responseId) {
    effects.push({ type: 'flush-audio', reason: 'new-response' });
  }
  effects.push({ type: 'show', note: { kind: 'response-started', responseId } });
  const old = state.responseId;
  // Responses run one at a time: arguments still streaming from an earlier one will never complete.
  const calls = withoutStreaming(state.calls);
  return {
    state: {
      ...state,
      ...(calls !== state.calls ? { calls } : {}),
      phase: 'thinking',
      responseId,
      audioOpenResponseId: null,
      awaitingReply: false,
      staleNoted: old !== null && old !== responseId ? remember(state.staleNoted, old) : state.staleNoted,
    },
    effects,
  };
}

function onAudioDelta(state: State, event: ServerEventOf<'response.output_audio.delta'>, at: number): Result {
  if (event.response_id !== state.responseId) {
    // Late delta of a cancelled or finished response, or of one we never saw start.
    if (state.staleNoted.includes(event.response_id)) return { state, effects: [] };
    return {
      state: { ...state, staleNoted: remember(state.staleNoted, event.response_id) },
      effects: [
        {
          type: 'show',
          note: { kind: 'anomaly', key: `stale-delta`, message: `dropped audio of response ${event.response_id}, which is not the current one` },
        },
      ],
    };
  }
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
  next = { ...next, phase: 'responding', audioOpenResponseId: event.response_id };
  if (decoded.pcm.length > 0) effects.push({ type: 'play-audio', pcm: decoded.pcm, responseId: event.response_id });
  return { state: next, effects };
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

function onArgumentsDelta(state: State, event: ServerEventOf<'response.function_call_arguments.delta'>, at: number): Result {
  const existing = state.calls[event.call_id];
  if (existing !== undefined && existing.status !== 'streaming') {
    return show(state, { kind: 'anomaly', key: 'args-after-done', message: `arguments for call ${event.call_id} after it was complete; ignored` });
  }
  if (existing === undefined && Object.keys(state.calls).length >= MAX_OPEN_CALLS) {
    return show(state, { kind: 'anomaly', key: 'too-many-calls', message: `more than ${MAX_OPEN_CALLS} tool calls open at once; call ${event.call_id} ignored` });
  }
  const soFar = existing?.argumentsText ?? '';
  if (soFar.length + event.delta.length > MAX_ARGUMENTS_CHARS) {
    // Keep what we have; arguments.done repeats the whole string anyway (§5.3).
    return show(state, { kind: 'anomaly', key: 'arguments-too-long', message: `streamed arguments of call ${event.call_id} exceed ${MAX_ARGUMENTS_CHARS} characters; the rest of the stream is ignored` });
  }
  const call: Call = {
    callId: event.call_id,
    name: event.name ?? existing?.name ?? '',
    argumentsText: soFar + event.delta,
    status: 'streaming',
    ...(existing?.superseded === true ? { superseded: true } : {}),
  };
  const turn = state.turn !== null && state.turn.firstArgsDeltaAt === undefined ? { ...state.turn, firstArgsDeltaAt: at } : state.turn;
  return {
    state: { ...state, calls: { ...state.calls, [call.callId]: call }, turn, phase: 'running-tool' },
    effects: [{ type: 'show', note: { kind: 'tool-args', callId: call.callId, name: call.name, argumentsText: call.argumentsText } }],
  };
}

function onArgumentsDone(state: State, event: ServerEventOf<'response.function_call_arguments.done'>, at: number): Result {
  const existing = state.calls[event.call_id];
  if (existing !== undefined && existing.status !== 'streaming') {
    return show(state, { kind: 'anomaly', key: 'duplicate-call', message: `duplicate call_id ${event.call_id}; the call already ran, ignored` });
  }
  if (existing === undefined && Object.keys(state.calls).length >= MAX_OPEN_CALLS) {
    return show(state, { kind: 'anomaly', key: 'too-many-calls', message: `more than ${MAX_OPEN_CALLS} tool calls open at once; call ${event.call_id} ignored` });
  }
  // `done` repeats the full arguments string (§5.3); prefer it over our concatenation.
  const call: Call = {
    callId: event.call_id,
    name: event.name,
    argumentsText: event.arguments,
    status: 'running',
    ...(existing?.superseded === true ? { superseded: true } : {}),
  };
  const turn = state.turn === null ? null : { ...state.turn, firstArgsDeltaAt: state.turn.firstArgsDeltaAt ?? at, argsDoneAt: at };
  return {
    state: { ...state, calls: { ...state.calls, [call.callId]: call }, turn, phase: 'running-tool', debouncePending: false },
    effects: [
      { type: 'show', note: { kind: 'tool-call', callId: call.callId, name: call.name, argumentsText: call.argumentsText } },
      { type: 'run-tool', callId: call.callId, name: call.name, argumentsText: call.argumentsText },
    ],
  };
}

function onToolResult(state: State, input: Extract<Input, { type: 'tool-result' }>): Result {
  const call = state.calls[input.callId];
  // A result for a call this session never made (e.g. from a dropped connection) is discarded.
  if (call === undefined || call.status !== 'running') return { state, effects: [] };
  const calls = { ...state.calls, [call.callId]: { ...call, status: 'answered' as const } };
  const allAnswered = Object.values(calls).every((entry) => entry.status === 'answered');
  const effects: Effect[] = [
    { type: 'show', note: { kind: 'tool-result', callId: call.callId, name: call.name, ok: input.ok, output: input.output, durationMs: input.durationMs } },
    { type: 'send', event: toolOutput(call.callId, input.output) },
  ];
  const turn =
    state.turn === null ? null : { ...state.turn, outputsSentAt: input.at, toolMs: Math.max(state.turn.toolMs ?? 0, input.durationMs) };
  let next: State = { ...state, calls, turn };
  // A call of the turn in progress (not superseded) still needs its response.create, even when calls of
  // a turn the user spoke over were answered after it.
  const current = Object.values(calls).some((entry) => entry.superseded !== true);
  if (allAnswered && current) {
    const token = state.debounceToken + 1;
    next = { ...next, debounceToken: token, debouncePending: true, phase: 'thinking' };
    effects.push({ type: 'start-debounce', token, ms: RESPONSE_CREATE_DEBOUNCE_MS });
  } else if (allAnswered) {
    next = { ...next, calls: {} };
  }
  return { state: next, effects };
}

function onDebounceElapsed(state: State, token: number, at: number): Result {
  if (!state.debouncePending || token !== state.debounceToken) return { state, effects: [] };
  if (supersededOnly(state.calls)) {
    // The user started speaking during the debounce: the outputs are delivered, the new turn drives the model (§5.6).
    return { state: { ...state, debouncePending: false, calls: {} }, effects: [] };
  }
  const stillRunning = Object.values(state.calls).some((call) => call.status !== 'answered');
  if (stillRunning) return { state: { ...state, debouncePending: false }, effects: [] };
  const turn = state.turn === null ? null : { ...state.turn, responseCreateAt: at };
  return {
    state: { ...state, debouncePending: false, calls: {}, turn, awaitingReply: true },
    effects: [{ type: 'send', event: responseCreate() }],
  };
}

/** The user pressed the interrupt key: cancel on the server and flush locally (§4.3). */
function onInterrupt(state: State): Result {
  const responseId = state.responseId;
  if (responseId === null) return { state, effects: [{ type: 'flush-audio', reason: 'key' }] };
  return {
    state: { ...state, responseId: null, audioOpenResponseId: null, staleNoted: remember(state.staleNoted, responseId), phase: 'listening' },
    effects: [
      { type: 'flush-audio', reason: 'key' },
      { type: 'send', event: responseCancel(responseId) },
      { type: 'show', note: { kind: 'interrupted', responseId, by: 'key' } },
    ],
  };
}

function onResponseDone(state: State, event: ServerEventOf<'response.done'>): Result {
  const response = event.response;
  const effects: Effect[] = [];
  const isCurrent = response.id === state.responseId;
  if (!isCurrent && !state.staleNoted.includes(response.id)) {
    // Neither current nor one we saw finish or get superseded: a response.done without response.created.
    return show(state, { kind: 'anomaly', key: 'done-without-created', message: `response.done for response ${response.id}, which never started; ignored` });
  }
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
  // tool turn would wait on it (no response.create). A late arguments.done still runs it: it carries the
  // whole arguments string.
  const calls = withoutStreaming(state.calls);
  const dropped = calls !== state.calls ? { calls } : {};
  if (!isCurrent) return { state: { ...state, ...dropped }, effects };
  const toolsOpen = Object.keys(calls).length > 0;
  return {
    state: {
      ...state,
      ...dropped,
      responseId: null,
      audioOpenResponseId: state.audioOpenResponseId === response.id ? null : state.audioOpenResponseId,
      staleNoted: remember(state.staleNoted, response.id),
      phase: toolsOpen ? 'running-tool' : 'listening',
      // A response that ended with no audio (cancelled, failed) still answered the turn.
      turn: toolsOpen ? state.turn : null,
    },
    effects,
  };
}

/** Every open call belongs to a turn the user spoke over: their outputs ask for no response (§5.6). */
function supersededOnly(calls: State['calls']): boolean {
  const all = Object.values(calls);
  return all.length > 0 && all.every((call) => call.superseded === true);
}

/** The calls without those still streaming their arguments (the same object when there are none). */
function withoutStreaming(calls: State['calls']): State['calls'] {
  const entries = Object.entries(calls);
  if (!entries.some(([, call]) => call.status === 'streaming')) return calls;
  return Object.fromEntries(entries.filter(([, call]) => call.status !== 'streaming'));
}

/** Keep a short memory of finished response ids (bounded: a long session must not grow it). */
function remember(list: readonly string[], id: string): readonly string[] {
  if (list.includes(id)) return list;
  return [...list.slice(-15), id];
}
