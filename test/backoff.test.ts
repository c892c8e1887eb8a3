import { describe, expect, it } from 'vitest';
import { BACKOFF, decideRetry, jittered } from '../src/backoff.js';
import { HydraError } from '../src/errors.js';
import { upgradeError } from '../src/connection.js';

describe('reconnect policy (hydra-protocol §1.7)', () => {
  it('never retries a rejected or forbidden key', () => {
    expect(decideRetry(upgradeError(401), 0, 8)).toEqual({ retry: false });
    expect(decideRetry(upgradeError(403), 0, 8)).toEqual({ retry: false });
  });

  it('backs off exponentially with full jitter, capped at 60 s for server_full', () => {
    const full = new HydraError('server-full', 'full');
    const top = () => 0.999999;
    const steps = [0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => {
      const decision = decideRetry(full, attempt, 99, top);
      return decision.retry ? decision.delayMs : -1;
    });
    expect(steps).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    const low = decideRetry(full, 3, 99, () => 0.25);
    expect(low).toEqual({ retry: true, delayMs: 2000, why: 'server-full' });
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
