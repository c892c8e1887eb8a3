/**
 * Scenario values a file may hold that Node's timers cannot: a `replyTimeoutMs` or
 * `trailingSilenceMs` past 2^31 − 1 ms must mean "a very long time", not fire after 1 ms.
 */
import { describe, expect, it } from 'vitest';
import { Waiter } from '../src/scenario/waiter.js';

describe('Waiter', () => {
  it('a timeout too long for a Node timer never fires early; a short one still does', async () => {
    const waiter = new Waiter();
    const order: string[] = [];
    const long = waiter.until(() => false, 3_000_000_000).then((ok) => order.push(`long:${ok}`));
    const delay = waiter.delay(1e12).then((ok) => order.push(`delay:${ok}`));
    await waiter.until(() => false, 50).then((ok) => order.push(`short:${ok}`));
    expect(order).toEqual(['short:false']);
    waiter.close();
    await Promise.all([long, delay]);
    expect(order).toEqual(['short:false', 'long:false', 'delay:false']);
  });
});
