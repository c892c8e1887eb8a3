/** Reconnect policy of hydra-protocol §1.7 as pure functions: what to do after a failure, and when. */
import type { HydraError } from './errors.js';

export type RetryDecision = { retry: false } | { retry: true; delayMs: number; why: 'server-full' | 'rate-limited' | 'dropped' };

export type BackoffState = { attempt: number };

/** Caps from §1.7: 60 s for server_full, 30 s for other failures; first wait 1 s. */
export const BACKOFF = { initialMs: 1000, serverFullCapMs: 60_000, otherCapMs: 30_000 } as const;

/** Full jitter: a uniform wait between 0 and the capped exponential step (never below 100 ms). */
export function jittered(attempt: number, capMs: number, random: () => number = Math.random): number {
  const step = Math.min(capMs, BACKOFF.initialMs * 2 ** Math.max(0, attempt));
  return Math.max(100, Math.round(step * random()));
}

/** Whether and how long to wait before the next attempt, given the error that ended the last one. */
export function decideRetry(
  error: HydraError,
  attempt: number,
  maxAttempts: number,
  random: () => number = Math.random,
): RetryDecision {
  if (attempt >= maxAttempts) return { retry: false };
  switch (error.code) {
    case 'server-full':
      return { retry: true, delayMs: jittered(attempt, BACKOFF.serverFullCapMs, random), why: 'server-full' };
    case 'rate-limited':
      return { retry: true, delayMs: error.retryAfterMs ?? jittered(attempt, BACKOFF.otherCapMs, random), why: 'rate-limited' };
    case 'server-error':
    case 'connect-failed':
    case 'protocol':
      return { retry: true, delayMs: jittered(attempt, BACKOFF.otherCapMs, random), why: 'dropped' };
    default:
      // 401/403, usage and local errors are never retried.
      return { retry: false };
  }
}
