/**
 * Tool calls in the reducer (§5.3–5.6): arguments stream in by call_id, `arguments.done` runs the
 * call, each result is sent as a function_call_output, and once every call of the turn is answered a
 * debounce leads to the single response.create. Pure, like the rest of the reducer.
 */
import { responseCreate, toolOutput, type ServerEventOf } from './protocol.js';
import {
  clip,
  malformed,
  MAX_ARGUMENTS_CHARS,
  MAX_ID_CHARS,
  MAX_OPEN_CALLS,
  MAX_TRACKED_CALLS,
  RESPONSE_CREATE_DEBOUNCE_MS,
  show,
  type Call,
  type Effect,
  type Input,
  type Result,
  type State,
} from './session-types.js';

type Calls = State['calls'];

const NO_CALLS: Calls = new Map();

function withCall(calls: Calls, call: Call): Calls {
  return new Map(calls).set(call.callId, call);
}

/** Calls not answered yet. */
function openCount(calls: Calls): number {
  let open = 0;
  for (const call of calls.values()) if (call.status !== 'answered') open += 1;
  return open;
}

export function hasOpenCalls(calls: Calls): boolean {
  return openCount(calls) > 0;
}

function tooMany(callId: string): Result['effects'][number] {
  return {
    type: 'show',
    note: { kind: 'anomaly', key: 'too-many-calls', message: `more than ${MAX_OPEN_CALLS} tool calls at once; call ${clip(callId)} and any further ones get an error output` },
  };
}

/** A call_id or tool name far longer than any real one: refused, so remembered calls stay small. */
function oversizedId(state: State, event: { type: string; call_id: string; name?: string | undefined }): Result | null {
  if (event.call_id.length <= MAX_ID_CHARS && (event.name?.length ?? 0) <= MAX_ID_CHARS) return null;
  return show(state, malformed('id-too-long', event.type, `a call_id or tool name longer than ${MAX_ID_CHARS} characters`));
}

export function onArgumentsDelta(state: State, event: ServerEventOf<'response.function_call_arguments.delta'>, at: number): Result {
  const oversized = oversizedId(state, event);
  if (oversized !== null) return oversized;
  const existing = state.calls.get(event.call_id);
  if (existing !== undefined && existing.status !== 'streaming') {
    return show(state, malformed('args-after-done', event.type, `arguments for call ${clip(event.call_id)} after it was complete`));
  }
  if (existing === undefined && (openCount(state.calls) >= MAX_OPEN_CALLS || state.calls.size >= MAX_TRACKED_CALLS)) {
    // Not assembled (memory stays bounded); its arguments.done answers it with an error output.
    return { state, effects: [tooMany(event.call_id)] };
  }
  const soFar = existing?.argumentsText ?? '';
  if (soFar.length + event.delta.length > MAX_ARGUMENTS_CHARS) {
    // Keep what we have; arguments.done repeats the whole string anyway (§5.3).
    return show(state, { kind: 'anomaly', key: 'arguments-too-long', message: `streamed arguments of call ${clip(event.call_id)} exceed ${MAX_ARGUMENTS_CHARS} characters; the rest of the stream is ignored` });
  }
  const call: Call = {
    callId: event.call_id,
    name: event.name ?? existing?.name ?? '',
    argumentsText: soFar + event.delta,
    status: 'streaming',
    responseId: existing?.responseId ?? event.response_id ?? state.responseId,
    ...(existing?.superseded === true ? { superseded: true } : {}),
  };
  const turn = state.turn !== null && state.turn.firstArgsDeltaAt === undefined ? { ...state.turn, firstArgsDeltaAt: at } : state.turn;
  // The note shows the start of the arguments (the status line, --json): once that start is complete a
  // delta changes nothing it shows. Carrying the whole text so far would make n tiny deltas cost n² in
  // the --json log (5 GB for 100 000 one-character deltas).
  const changed = soFar.length < ARGS_PREVIEW_CHARS || existing?.name !== call.name;
  return {
    state: { ...state, calls: withCall(state.calls, call), turn, phase: 'running-tool' },
    effects: changed ? [{ type: 'show', note: { kind: 'tool-args', callId: call.callId, name: call.name, argumentsText: call.argumentsText.slice(0, ARGS_PREVIEW_CHARS) } }] : [],
  };
}

/** How much of the streamed arguments a tool-args note carries. */
const ARGS_PREVIEW_CHARS = 200;

export function onArgumentsDone(state: State, event: ServerEventOf<'response.function_call_arguments.done'>, at: number): Result {
  const oversized = oversizedId(state, event);
  if (oversized !== null) return oversized;
  const existing = state.calls.get(event.call_id);
  if (existing !== undefined && existing.status !== 'streaming') {
    return show(state, malformed('duplicate-call', event.type, `duplicate call_id ${clip(event.call_id)}; the call already ran`));
  }
  const name = event.name ?? existing?.name ?? '';
  if (existing === undefined && openCount(state.calls) >= MAX_OPEN_CALLS) return refuseCall(state, event.call_id, name, at);
  // `done` repeats the full arguments string (§5.3); prefer it over our concatenation. The effects carry
  // it to the runner and the screen; the call kept in State drops it, so up to MAX_TRACKED_CALLS
  // remembered calls cost no argument text (only streaming calls hold theirs, each capped).
  const call: Call = {
    callId: event.call_id,
    name,
    argumentsText: '',
    status: 'running',
    responseId: existing?.responseId ?? event.response_id ?? state.responseId,
    ...(existing?.superseded === true ? { superseded: true } : {}),
  };
  const turn = state.turn === null ? null : { ...state.turn, firstArgsDeltaAt: state.turn.firstArgsDeltaAt ?? at, argsDoneAt: at };
  return {
    state: { ...state, calls: withCall(state.calls, call), turn, phase: 'running-tool', debouncePending: false },
    effects: [
      { type: 'show', note: { kind: 'tool-call', callId: call.callId, name: call.name, argumentsText: event.arguments } },
      { type: 'run-tool', callId: call.callId, name: call.name, argumentsText: event.arguments },
    ],
  };
}

/** A call over MAX_OPEN_CALLS: not run, but answered at once so the model is not left waiting for it. */
function refuseCall(state: State, callId: string, name: string, at: number): Result {
  const output = JSON.stringify({ error: `too many tool calls at once (at most ${MAX_OPEN_CALLS} run together); this call was not run` });
  const call: Call = { callId, name, argumentsText: '', status: 'answered', responseId: state.responseId };
  // Remembered (to spot a duplicate) while there is room; past that it is only answered.
  const calls = state.calls.size < MAX_TRACKED_CALLS ? withCall(state.calls, call) : state.calls;
  const effects: Effect[] = [tooMany(callId), { type: 'send', event: toolOutput(callId, output) }];
  const turn = state.turn === null ? null : { ...state.turn, outputsSentAt: at };
  return afterOutput({ ...state, calls, turn }, effects);
}

export function onToolResult(state: State, input: Extract<Input, { type: 'tool-result' }>): Result {
  const call = state.calls.get(input.callId);
  // A result for a call this session never made (e.g. from a dropped connection) is discarded.
  if (call === undefined || call.status !== 'running') return { state, effects: [] };
  const effects: Effect[] = [
    { type: 'show', note: { kind: 'tool-result', callId: call.callId, name: call.name, ok: input.ok, output: input.output, durationMs: input.durationMs } },
    { type: 'send', event: toolOutput(call.callId, input.output) },
  ];
  const turn =
    state.turn === null ? null : { ...state.turn, outputsSentAt: input.at, toolMs: Math.max(state.turn.toolMs ?? 0, input.durationMs) };
  return afterOutput({ ...state, calls: withCall(state.calls, { ...call, status: 'answered' }), turn }, effects);
}

/** After an output was sent: when every call is answered, the debounce toward response.create starts. */
function afterOutput(state: State, effects: Effect[]): Result {
  const calls = [...state.calls.values()];
  if (!calls.every((entry) => entry.status === 'answered')) return { state, effects };
  // A call of the turn in progress (not superseded) still needs its response.create, even when calls of
  // a turn the user spoke over were answered after it.
  if (!calls.some((entry) => entry.superseded !== true)) return { state: { ...state, calls: NO_CALLS }, effects };
  const token = state.debounceToken + 1;
  effects.push({ type: 'start-debounce', token, ms: RESPONSE_CREATE_DEBOUNCE_MS });
  return { state: { ...state, debounceToken: token, debouncePending: true, phase: 'thinking' }, effects };
}

export function onDebounceElapsed(state: State, token: number, at: number): Result {
  if (!state.debouncePending || token !== state.debounceToken) return { state, effects: [] };
  if (supersededOnly(state.calls)) {
    // The user started speaking during the debounce: the outputs are delivered, the new turn drives the model (§5.6).
    return { state: { ...state, debouncePending: false, calls: NO_CALLS }, effects: [] };
  }
  if (hasOpenCalls(state.calls)) return { state: { ...state, debouncePending: false }, effects: [] };
  const turn = state.turn === null ? null : { ...state.turn, responseCreateAt: at };
  return {
    state: { ...state, debouncePending: false, calls: NO_CALLS, turn, awaitingReply: true, awaitingSince: at },
    effects: [{ type: 'send', event: responseCreate() }],
  };
}

/** The user spoke again: every call still open (or awaiting its response.create) belongs to a finished turn. */
export function supersedeCalls(state: State): Calls {
  if (!hasOpenCalls(state.calls) && !state.debouncePending) return state.calls;
  return new Map([...state.calls].map(([id, call]) => [id, { ...call, superseded: true }]));
}

/** Every open call belongs to a turn the user spoke over: their outputs ask for no response (§5.6). */
function supersededOnly(calls: Calls): boolean {
  return calls.size > 0 && [...calls.values()].every((call) => call.superseded === true);
}

/**
 * The calls without those still streaming their arguments that `finished` says will never complete
 * (the same Map when there are none). A late arguments.done still runs such a call: it carries the
 * whole arguments string.
 */
export function dropStreaming(calls: Calls, finished: (call: Call) => boolean): Calls {
  const kept = [...calls].filter(([, call]) => call.status !== 'streaming' || !finished(call));
  return kept.length === calls.size ? calls : new Map(kept);
}
