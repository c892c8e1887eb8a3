/** The shell's two watchdogs as pure rules: a session must be configured, and a detected turn answered. */
import { HydraError } from './errors.js';
import type { Note, State } from './session.js';

/** No usable session.configured in time (issue 13.6): exit 9, with why when its frame was malformed. */
export function configuredTimeoutError(ms: number, malformed: string | null): HydraError {
  const why = malformed === null ? '' : ` (its session.configured was malformed: ${malformed})`;
  return new HydraError('connect-failed', `the server did not confirm the session: no usable session.configured within ${ms / 1000} s${why}`);
}

/**
 * Which reply is awaited (issue 12.2): the user turn the server detected (its speech_stopped time) or a
 * requested greeting (-1), until its first audio ends `State.turn`; null when nothing is awaited, or
 * while our own tools run (their time does not count).
 */
export function replyKey(state: State | null): number | null {
  if (state === null || !state.configured || state.phase === 'running-tool') return null;
  return state.turn?.speechStoppedAt ?? (state.awaitingReply ? -1 : null);
}

/** When the reply does not come: with an input file the run fails; in live chat it is a warning. */
export function noReply(ms: number, inputName: string | undefined): ReplyVerdict {
  return replyVerdict(`no reply within ${Math.round(ms / 100) / 10} s`, 'no-reply', inputName, (name) => `the server heard a turn in ${name} but did not answer it`);
}

type ReplyVerdict = { kind: 'error'; error: HydraError } | { kind: 'warning'; note: Note };

/** With an input file, `message (detail)` fails the run (exit 19); live, it is a warning and the chat goes on. */
function replyVerdict(message: string, code: string, inputName: string | undefined, detail: (inputName: string) => string): ReplyVerdict {
  if (inputName !== undefined) return { kind: 'error', error: new HydraError('no-reply', `${message} (${detail(inputName)})`) };
  return { kind: 'warning', note: { kind: 'warning', code, message: `${message}; still listening` } };
}

/**
 * The server owes us frames: a response it started is not done, or a tool call's arguments are still
 * streaming. Silence then means it stopped mid-reply (a live server streams faster than real time).
 * Not while we owe it something: a tool of ours running, or the debounce before response.create (a
 * server may hold the tool-calling response open until our outputs arrive, §5.2).
 */
export function serverOwes(state: State | null): boolean {
  if (state === null || !state.configured || state.debouncePending) return false;
  let streaming = false;
  for (const call of state.calls.values()) {
    if (call.status === 'running') return false;
    if (call.status === 'streaming') streaming = true;
  }
  return streaming || state.responseId !== null;
}

/** A reply that stopped arriving without a close: with an input file the run fails (exit 19); live, a warning. */
export function stalled(ms: number, inputName: string | undefined): ReplyVerdict {
  const message = `the reply stopped: nothing from the server for ${Math.round(ms / 100) / 10} s in the middle of a response`;
  return replyVerdict(message, 'reply-stalled', inputName, (name) => `turn in ${name}`);
}

/** With an input file: the server heard speech start but never its end, long after the file and its trailing silence. */
export function turnNeverEnded(ms: number, inputName: string): HydraError {
  return new HydraError('no-reply', `the server heard speech in ${inputName} but never ended the turn (no speech_stopped within ${Math.round(ms / 100) / 10} s after the input ended)`);
}

/** An input file in which the server detected no turn at all (issue 12.2). */
export function noSpeechError(inputName: string): HydraError {
  return new HydraError('no-speech', `the server heard no speech in ${inputName}`, { hint: 'is the file speech, loud enough, and not just silence?' });
}

/** What the replies of a run came to: whether any carried audio, and how the last response ended. */
export type Replies = { withAudio: boolean; lastStatus: string | null };

/**
 * Whether an input-file run that is ending (input finished, or the server closed) did its job (issue
 * 12.2): the server must have detected a turn, none may still await its reply, and some reply must
 * have carried audio (a failed or empty response answers nothing). Null: it did.
 */
export function inputVerdict(inputName: string | undefined, heardTurn: boolean, awaitingReply: boolean, replies: Replies): HydraError | null {
  if (inputName === undefined) return null;
  if (!heardTurn) return noSpeechError(inputName);
  if (awaitingReply) return new HydraError('no-reply', `the server ended the session before replying to a turn in ${inputName}`);
  if (!replies.withAudio) {
    const how = replies.lastStatus === null ? '' : ` (the last response ended ${replies.lastStatus})`;
    return new HydraError('no-reply', `the server heard a turn in ${inputName} but no reply carried audio${how}`);
  }
  return null;
}
