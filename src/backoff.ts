/** Reconnect policy of hydra-protocol §1.7 as pure functions: what to do after a failure, and when. */
import type { HydraError } from './errors.js';

export type RetryDecision = { retry: false } | { retry: true; delayMs: number; why: 'server-full' | 'rate-limited' | 'dropped' };

/** Caps from §1.7: 60 s for server_full, 30 s for other failures; first step 1 s, doubling. */
export const BACKOFF = { initialMs: 1000, serverFullCapMs: 60_000, otherCapMs: 30_000 } as const;

/** The step (base) of attempt `attempt` (0 = the first retry): 1 s, 2 s, 4 s, … up to `capMs`. */
export function backoffStep(attempt: number, capMs: number): number {
  return Math.min(capMs, BACKOFF.initialMs * 2 ** Math.max(0, attempt));
}

/**
 * "Equal jitter": half the step is fixed, the other half random, so the wait for attempt n lies in
 * [step/2, step]. The first wait is 0.5–1 s, and a wait is never shorter than the previous step
 * (step n / 2 = step n−1) until the cap; once capped, waits stay in [cap/2, cap].
 */
export function jittered(attempt: number, capMs: number, random: () => number = Math.random): number {
  const step = backoffStep(attempt, capMs);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(step / 2 + (step / 2) * r);
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
