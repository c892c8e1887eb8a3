/**
 * The shell's reply watchdogs (--reply-timeout), on the pure rules of watchdogs.ts: a detected turn must
 * get its reply started, and a reply (or a tool call's arguments) that started must keep arriving.
 */
import { performance } from 'node:perf_hooks';
import type { HydraError } from './errors.js';
import type { Note, State } from './session.js';
import { noReply, replyKey, serverOwes, stalled } from './watchdogs.js';

/** What the watch needs from the shell: the timeout, the input's name, timers, and where verdicts go. */
export type ReplyWatchDeps = {
  ms: number;
  inputName: string | undefined;
  /** A timer the shell clears when the session ends. */
  after(ms: number, run: () => void): NodeJS.Timeout;
  cancel(timer: NodeJS.Timeout): void;
  fail(error: HydraError): void;
  warn(note: Note): void;
};

/** Both --reply-timeout watchdogs of one chat, fed every inbound frame and every state change. */
export class ReplyWatch {
  private readonly deps: ReplyWatchDeps;
  private key: number | null = null;
  private replyTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private lastInboundAt = performance.now();

  constructor(deps: ReplyWatchDeps) {
    this.deps = deps;
  }

  /** A server frame arrived (any: the stall watch only needs to know the server is still talking). */
  inbound(at: number): void {
    this.lastInboundAt = at;
  }

  /** After each state change. */
  update(state: State | null): void {
    this.watchReply(state);
    this.watchStall(state);
  }

  /** The session ended: its timers are gone (the shell cleared them). */
  reset(): void {
    this.key = null;
    this.replyTimer = null;
    this.stallTimer = null;
  }

  /** Issue 12.2: a detected turn must be answered within --reply-timeout (watchdogs.ts says what counts). */
  private watchReply(state: State | null): void {
    const key = replyKey(state);
    if (key === this.key) return;
    this.key = key;
    if (this.replyTimer !== null) this.deps.cancel(this.replyTimer);
    this.replyTimer = null;
    if (key === null) return;
    this.replyTimer = this.deps.after(this.deps.ms, () => {
      this.replyTimer = null;
      this.report(noReply(this.deps.ms, this.deps.inputName));
    });
  }

  /**
   * A response in flight (or tool arguments streaming) with nothing from the server for --reply-timeout:
   * a server that stopped mid-reply without closing. One timer, re-armed for what is left when frames
   * still arrive (not one per frame).
   */
  private watchStall(state: State | null): void {
    if (!serverOwes(state)) {
      if (this.stallTimer !== null) this.deps.cancel(this.stallTimer);
      this.stallTimer = null;
      return;
    }
    if (this.stallTimer !== null) return;
    const check = (): void => {
      this.stallTimer = null;
      const quietMs = performance.now() - this.lastInboundAt;
      if (quietMs < this.deps.ms) {
        this.stallTimer = this.deps.after(this.deps.ms - quietMs, check);
        return;
      }
      this.report(stalled(this.deps.ms, this.deps.inputName));
    };
    this.stallTimer = this.deps.after(this.deps.ms, check);
  }

  private report(verdict: ReturnType<typeof noReply>): void {
    if (verdict.kind === 'error') this.deps.fail(verdict.error);
    else this.deps.warn(verdict.note);
  }
}
