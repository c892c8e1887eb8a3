import { describe, expect, it } from 'vitest';
import { BACKOFF, backoffStep, decideRetry, jittered } from '../src/backoff.js';
import { closeVerdict, FRESH_BOOK, nextRetry, type RetryBook } from '../src/reconnect.js';
import { HydraError } from '../src/errors.js';
import { upgradeError } from '../src/connection.js';

describe('reconnect policy (hydra-protocol §1.7)', () => {
  it('never retries a rejected or forbidden key', () => {
    expect(decideRetry(upgradeError(401), 0, 8)).toEqual({ retry: false });
    expect(decideRetry(upgradeError(403), 0, 8)).toEqual({ retry: false });
  });

  it('backs off exponentially with equal jitter, capped at 60 s for server_full', () => {
    const full = new HydraError('server-full', 'full');
    const waits = (random: () => number) =>
      [0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => {
        const decision = decideRetry(full, attempt, 99, random);
        return decision.retry ? decision.delayMs : -1;
      });
    expect(waits(() => 0.999999)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    // The unluckiest draws: the first wait is still 500 ms, and no wait is shorter than the previous step.
    expect(waits(() => 0)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(decideRetry(full, 3, 99, () => 0.25)).toEqual({ retry: true, delayMs: 5000, why: 'server-full' });
  });

  it('never waits less than 500 ms first, nor less than the previous step (§1.7; issue 12.3), for any draw', () => {
    const draws = [0, 1e-9, 0.1, 0.37, 0.5, 0.81, 0.999999, 1];
    for (const error of [new HydraError('server-full', 'full'), new HydraError('connect-failed', 'dropped')]) {
      const cap = error.code === 'server-full' ? BACKOFF.serverFullCapMs : BACKOFF.otherCapMs;
      for (const draw of draws) {
        const waits = Array.from({ length: 10 }, (_, attempt) => jittered(attempt, cap, () => draw));
        expect(waits[0]).toBeGreaterThanOrEqual(500);
        expect(waits[0]).toBeLessThanOrEqual(1000);
        for (let n = 1; n < waits.length; n += 1) {
          const previousStep = backoffStep(n - 1, cap);
          expect(waits[n]).toBeGreaterThanOrEqual(Math.min(previousStep, cap / 2));
          expect(waits[n]).toBeLessThanOrEqual(cap);
        }
      }
    }
  });

  it('caps other drops at 30 s and stops after the attempt limit', () => {
    const drop = new HydraError('connect-failed', 'dropped');
    expect(jittered(10, BACKOFF.otherCapMs, () => 0.999999)).toBe(30000);
    expect(decideRetry(drop, 8, 8)).toEqual({ retry: false });
  });

  it('honours Retry-After on HTTP 429', () => {
    const limited = upgradeError(429, '7');
    expect(limited.code).toBe('rate-limited');
    expect(decideRetry(limited, 0, 8)).toEqual({ retry: true, delayMs: 7000, why: 'rate-limited' });
  });

  it('maps upgrade statuses to distinct codes', () => {
    expect([401, 403, 429, 500, 418].map((status) => upgradeError(status).code)).toEqual([
      'auth-rejected',
      'forbidden',
      'rate-limited',
      'server-error',
      'connect-failed',
    ]);
  });
});

describe('reconnect verdicts (pure)', () => {
  const dropped = new HydraError('connect-failed', 'the connection dropped');

  it('counts consecutive short sessions toward --max-retries even when each answered a turn (issue 13.8)', () => {
    let book: RetryBook = FRESH_BOOK;
    const decisions: boolean[] = [];
    for (let i = 0; i < 6; i += 1) {
      // answered a turn (ran), then dropped after 2 s: backoff resets, the failure count does not
      const next = nextRetry(book, { kind: 'retry', error: dropped, ran: true, short: true }, 3, () => 0);
      book = next.book;
      decisions.push(next.decision.retry);
      if (next.decision.retry) expect(next.decision.delayMs).toBe(500);
    }
    expect(decisions).toEqual([true, true, true, false, false, false]);
  });

  it('a long session resets the count; server_full never counts as having run', () => {
    const long = nextRetry({ attempt: 5, failures: 5 }, { kind: 'retry', error: dropped, ran: true, short: false }, 3, () => 0);
    expect(long.decision.retry).toBe(true);
    expect(long.book).toEqual({ attempt: 1, failures: 1 });
    const full = closeVerdict({ code: 1013, reason: '', serverFull: true }, { configured: true, answered: true, lastedMs: 60_000 });
    expect(full).toMatchObject({ kind: 'retry', ran: false, error: { code: 'server-full' } });
  });

  it("1009 from the server is our own frame (not retried); our own 1009 for a huge incoming frame is retried", () => {
    const theirs = closeVerdict({ code: 1009, reason: '', serverFull: false }, { configured: false, answered: false, lastedMs: 5 });
    expect(theirs.kind).toBe('fatal');
    expect(theirs.kind === 'fatal' && theirs.error.message).toMatch(/a frame hydra-chat sent was larger than it accepts/);
    const ours = closeVerdict({ code: 1009, reason: '', serverFull: false, frameTooLarge: true }, { configured: true, answered: false, lastedMs: 5 });
    expect(ours.kind === 'retry' && ours.error.message).toMatch(/a frame larger than 16 MB arrived/);
    expect(closeVerdict({ code: 1000, reason: '', serverFull: false }, { configured: true, answered: false, lastedMs: 5 })).toEqual({ kind: 'server-closed' });
  });
});
