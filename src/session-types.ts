/**
 * The session reducer's vocabulary: its state, what it reacts to (Input), what it asks the shell to do
 * (Effect) and the lines it has for the person (Note). Pure data and constants; the logic is in
 * session.ts (server events), session-responses.ts and session-calls.ts.
 */
import type { ToolTiming, TurnMetric } from './metrics.js';
import { redact } from './redact.js';
import { DEFAULT_OUTPUT_RATE, type ClientEvent, type ServerEvent, type ServerEventOf, type SessionConfig } from './protocol.js';

export type { ToolTiming };

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
  /** The response that streams it (from the frame's response_id, else the current one). */
  responseId: string | null;
  /** Open when the user spoke again: its turn is over, so its output alone asks for no response. */
  superseded?: boolean;
}>;

/** Timestamps of the turn in progress (ms, monotonic clock) for V2V (§9.2). */
export type TurnClock = Readonly<{
  speechStoppedAt: number;
  firstArgsDeltaAt?: number;
  argsDoneAt?: number;
  outputsSentAt?: number;
  responseCreateAt?: number;
  toolMs?: number;
}>;

/** A response this session saw start (response.created). */
export type ResponseRecord = Readonly<{
  id: string;
  /** Its response.done arrived: another one is a duplicate. */
  done: boolean;
  /** A late audio delta of it (after it stopped being current) was already noted. */
  lateNoted: boolean;
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
  /** The most recent responses that started, the current one included (bounded: MAX_REMEMBERED_RESPONSES). */
  responses: readonly ResponseRecord[];
  /** Tool calls by call_id (a Map: any string is a safe key, `__proto__` included). */
  calls: ReadonlyMap<string, Call>;
  /** Bumped each time a tool output is sent; a debounce timer only fires for the latest. */
  debounceToken: number;
  debouncePending: boolean;
  turn: TurnClock | null;
  /** A user turn (or a requested greeting) that no response has answered yet. */
  awaitingReply: boolean;
  /** Since when (input `at`) that reply is awaited; null when none is. */
  awaitingSince: number | null;
  /** User turns the server detected (speech_stopped). */
  heardTurns: number;
  /** Awaited replies that started (a response.created answered a user turn, a greeting or a response.create). */
  answeredTurns: number;
  /** Replies measured: the first audio after a user turn (each one is a `metric` effect). */
  turns: number;
  /** Completed user items (conversation.item.done, role user). */
  userItems: number;
}>;

/** Everything the reducer reacts to: server frames and the shell's own happenings. */
export type Input =
  | { type: 'server'; event: ServerEvent; at: number }
  | { type: 'tool-result'; callId: string; output: string; ok: boolean; durationMs: number; at: number }
  | { type: 'debounce-elapsed'; token: number; at: number }
  | { type: 'interrupt'; at: number };

/** Token counts of a finished response, as the server reported them. */
type Usage = NonNullable<ServerEventOf<'response.done'>['response']['usage']>;

/** A line for the person at the terminal; the UI decides how it looks (and cleans every string in it). */
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

export type Effect =
  | { type: 'send'; event: ClientEvent }
  | { type: 'play-audio'; pcm: Buffer; responseId: string }
  | { type: 'flush-audio'; reason: 'speech-started' | 'new-response' | 'cancelled' | 'key' }
  | { type: 'run-tool'; callId: string; name: string; argumentsText: string }
  | { type: 'start-debounce'; token: number; ms: number }
  | { type: 'metric'; metric: TurnMetric }
  | { type: 'show'; note: Note };

export type Result = { state: State; effects: Effect[] };

/** Debounce between the last tool output and the single response.create of a turn (§5.4). */
export const RESPONSE_CREATE_DEBOUNCE_MS = 200;

/**
 * Bounds against a hostile or broken server: tool calls run at once (a call over it gets an error
 * output at once), calls remembered per turn, streamed argument text per call, responses remembered.
 */
export const MAX_OPEN_CALLS = 32;
export const MAX_TRACKED_CALLS = 8 * MAX_OPEN_CALLS;
export const MAX_ARGUMENTS_CHARS = 256 * 1024;
export const MAX_REMEMBERED_RESPONSES = 16;
/** Longest call_id or tool name taken from the server (real ones are a few dozen characters). */
export const MAX_ID_CHARS = 256;

export { DEFAULT_OUTPUT_RATE };

export function initialState(config: SessionConfig): State {
  return {
    phase: 'configuring',
    config,
    configured: false,
    outputSampleRate: DEFAULT_OUTPUT_RATE,
    responseId: null,
    audioOpenResponseId: null,
    responses: [],
    calls: new Map(),
    debounceToken: 0,
    debouncePending: false,
    turn: null,
    awaitingReply: config.generate_initial_response === true,
    awaitingSince: null,
    heardTurns: 0,
    answeredTurns: 0,
    turns: 0,
    userItems: 0,
  };
}

export function show(state: State, note: Note): Result {
  return { state, effects: [{ type: 'show', note }] };
}

/**
 * A server-chosen id or name, cut for a one-line message. Redacted before it is cut: a key the server
 * echoes would otherwise be cut into a prefix that no later redaction recognises.
 */
export function clip(text: string, max = 60): string {
  const shown = redact(text);
  return shown.length > max ? `${shown.slice(0, max)}…` : shown;
}

/** The note for a frame that breaks the protocol's rules (README: `ignored a malformed frame (…): …`). */
export function malformed(key: string, type: string, problem: string): Note {
  return { kind: 'anomaly', key, message: `ignored a malformed frame (${type}): ${problem}` };
}
