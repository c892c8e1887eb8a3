/**
 * Waiting on conditions that change with chat events: `until(cond, ms)` resolves true as soon as a
 * `check()` (called after every event) finds the condition holds, false on timeout or `close()`.
 */
type Wait = { cond: () => boolean; settle: (ok: boolean) => void };

/** Node's timers hold at most 2^31 − 1 ms (24.8 days); a longer one fires after 1 ms. Longer waits have no timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Waiter {
  private readonly waits = new Set<Wait>();
  private isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  until(cond: () => boolean, timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(false);
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wait: Wait = {
        cond,
        settle: (ok) => {
          if (timer) clearTimeout(timer);
          this.waits.delete(wait);
          resolve(ok);
        },
      };
      if (timeoutMs <= MAX_TIMER_MS) timer = setTimeout(() => wait.settle(false), Math.max(0, timeoutMs));
      this.waits.add(wait);
    });
  }

  /** Sleeps `ms`, waking early on close; resolves false when closed. */
  async delay(ms: number): Promise<boolean> {
    await this.until(() => false, ms);
    return !this.isClosed;
  }

  /** The promise's value, or null once closed (for promises that may never settle after close). */
  async race<T>(promise: Promise<T>): Promise<T | null> {
    if (this.isClosed) return null;
    let stop!: () => void;
    const closed = new Promise<null>((resolve) => (stop = () => resolve(null)));
    this.onClose.add(stop);
    try {
      return await Promise.race([promise, closed]);
    } finally {
      this.onClose.delete(stop);
    }
  }
  private readonly onClose = new Set<() => void>();

  check(): void {
    for (const wait of [...this.waits]) if (wait.cond()) wait.settle(true);
  }

  close(): void {
    this.isClosed = true;
    for (const stop of [...this.onClose]) stop();
    for (const wait of [...this.waits]) wait.settle(false);
  }
}
