/**
 * Reconnection (hydra-protocol §1.7): a pure verdict on how a session ended, a pure book of attempts,
 * and the loop that connects, runs a session and waits between tries. What server_full means for the
 * next attempt is decided here and nowhere else (connection.ts only recognises it).
 */
import { decideRetry, type RetryDecision } from './backoff.js';
import type { ChatOutcome } from './chat-types.js';
import type { CloseInfo } from './connection.js';
import { MAX_FRAME_BYTES } from './connection.js';
import { HydraError, serverFullError } from './errors.js';

/** A session that lasted this long counts as having run (§1.7 backoff reset) even without a turn. */
export const STABLE_SESSION_MS = 10_000;

/** How one attempt ended. `again`: reconnect at once, not counted (e.g. without a rejected voice). */
export type SessionEnd =
  | { kind: 'final'; outcome: ChatOutcome }
  | { kind: 'retry'; error: HydraError; ran: boolean; short: boolean }
  | { kind: 'again' };

export type Verdict = { kind: 'server-closed' } | { kind: 'fatal'; error: HydraError } | Extract<SessionEnd, { kind: 'retry' }>;

/** What the session achieved before the socket closed. */
export type CloseContext = { configured: boolean; answered: boolean; lastedMs: number };


/** The close of a session that had started (session.created) → what to do. Pure. */
export function closeVerdict(info: CloseInfo, context: CloseContext): Verdict {
  // §1.7 resets the backoff after a session that *ran*: configured, and either a turn was answered or it
  // lasted a while. A server that accepts and drops at once must not get an endless 1 s reconnect loop.
  const ran = context.configured && (context.answered || context.lastedMs >= STABLE_SESSION_MS);
  // Short sessions count against --max-retries even when they answered a turn (a server that answers and drops).
  const short = context.lastedMs < STABLE_SESSION_MS;
  // §1.6: server_full is followed by 1013; a normal close (1000) after one is just the end of the session.
  if (info.code === 1000) return { kind: 'server-closed' };
  if (info.serverFull || info.code === 1013) return { kind: 'retry', error: serverFullError(), ran: false, short: true };
  if (info.frameTooLarge) {
    // ws closed with 1009 itself because an incoming frame exceeded maxPayload: say so, not "the server closed".
    const message = `a frame larger than ${MAX_FRAME_BYTES / 1024 / 1024} MB arrived; the connection was closed to protect memory`;
    return { kind: 'retry', error: new HydraError('connect-failed', message), ran, short };
  }
  if (info.brokenFrame) {
    // ws closed with 1002/1007 itself: a frame no WebSocket endpoint may send. Not "the connection dropped".
    const message = `the server sent a broken WebSocket frame (${info.brokenFrame}); hydra-chat closed the connection`;
    return { kind: 'retry', error: new HydraError('connect-failed', message), ran, short };
  }
  if (info.code === 1009) {
    // The server's 1009: a frame *we* sent was too big; sending it again would fail the same way.
    return {
      kind: 'fatal',
      error: new HydraError('connect-failed', 'the server closed the connection (1009 message too big): a frame hydra-chat sent was larger than it accepts', {
        hint: 'shorten the instructions (--prompt / --prompt-file) or the tool declarations',
      }),
    };
  }
  const why = info.code === 1006 ? 'the connection dropped' : `the server closed the connection (code ${info.code}${info.reason ? `: ${info.reason}` : ''})`;
  return { kind: 'retry', error: new HydraError('connect-failed', why), ran, short };
}

/** A failure before session.created → what to do. Pure. */
export function connectVerdict(error: HydraError, everConnected: boolean): Verdict {
  // A refused first connection is a configuration problem, not a blip: fail fast.
  if (!everConnected && error.code === 'connect-failed') return { kind: 'fatal', error };
  return { kind: 'retry', error, ran: false, short: true };
}

/** `attempt` steps the backoff (reset after a session that ran); `failures` counts toward --max-retries. */
export type RetryBook = { attempt: number; failures: number };

export const FRESH_BOOK: RetryBook = { attempt: 0, failures: 0 };

/** The decision after a retryable end, and the book for the next one. Pure. */
export function nextRetry(
  book: RetryBook,
  end: Extract<SessionEnd, { kind: 'retry' }>,
  maxRetries: number,
  random?: () => number,
): { book: RetryBook; decision: RetryDecision; attempt: number } {
  const attempt = end.ran ? 0 : book.attempt;
  const failures = end.short ? book.failures : 0;
  const decision = failures >= maxRetries ? ({ retry: false } as const) : decideRetry(end.error, attempt, Number.POSITIVE_INFINITY, random);
  return { book: { attempt: attempt + 1, failures: failures + 1 }, decision, attempt: failures + 1 };
}

export type LoopDeps = {
  maxRetries: number;
  random?: (() => number) | undefined;
  /** Connects and runs one session to its end; `attempt` counts the tries so far. */
  runOnce(attempt: number): Promise<SessionEnd>;
  /** The run already has its outcome (quit, or ended by the shell): stop looping. */
  settled(): ChatOutcome | null;
  onRetry(detail: { why: 'server-full' | 'rate-limited' | 'dropped'; inMs: number; attempt: number; error: HydraError }): void;
  /** Sleeps; resolves true when the run was stopped meanwhile. */
  wait(ms: number): Promise<boolean>;
  /** The outcome for an error that ends the run. */
  failed(error: HydraError): ChatOutcome;
};

export async function reconnectLoop(deps: LoopDeps): Promise<ChatOutcome> {
  let book = FRESH_BOOK;
  let tries = 0;
  for (;;) {
    const before = deps.settled();
    if (before) return before;
    const end = await deps.runOnce(tries);
    tries += 1;
    if (end.kind === 'final') return end.outcome;
    if (end.kind === 'again') continue;
    const next = nextRetry(book, end, deps.maxRetries, deps.random);
    book = next.book;
    if (!next.decision.retry) return deps.failed(end.error);
    deps.onRetry({ why: next.decision.why, inMs: next.decision.delayMs, attempt: next.attempt, error: end.error });
    const stopped = await deps.wait(next.decision.delayMs);
    const after = deps.settled();
    if (after) return after;
    if (stopped) return deps.failed(new HydraError('interrupted', 'stopped'));
  }
}

/** Sleeps `ms`, waking early when `signal` aborts; resolves true when it did. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(true);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
