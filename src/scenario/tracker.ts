/**
 * Turns ChatEvents into per-turn records: which scenario turn the server heard, its V2V metric, tool
 * calls with their outputs, reply audio played, interruption, error frames. Record 0 is the session
 * opening (the greeting when the agent greets). Events belong to the "active" turn, which moves to
 * the next scripted turn when the server reports speech_started for it; responses are tied to the
 * turn active when they were created, so a late `response.done` still lands on the right turn.
 */
import type { ChatEvent } from '../chat.js';
import type { TurnMetric } from '../metrics.js';

export type CallRecord = { callId: string; name: string; argumentsText: string; ok?: boolean; output?: string; durationMs?: number };
export type ErrorRecord = { code: string; message: string };

export type TurnRecord = {
  index: number;
  /** Run-relative ms when the turn's audio started / finished going out. */
  spokeAtMs?: number;
  spokeEndMs?: number;
  /** speech_stopped frames while this turn was active, and how many of them were discarded as noise. */
  heard: number;
  discarded: number;
  metric?: TurnMetric;
  calls: CallRecord[];
  /** Reply audio played to the (virtual) speaker. */
  replyMs: number;
  interrupted: boolean;
  responses: { id: string; status?: string; reason?: string }[];
  errors: ErrorRecord[];
  timedOut: boolean;
};

export class TurnTracker {
  readonly records: TurnRecord[];
  readonly errors: ErrorRecord[] = [];
  readonly warnings: ErrorRecord[] = [];
  readonly retries: { why: string; attempt: number; message: string }[] = [];
  private activeIndex = 0;
  private pendingIndex = 0;
  private readonly byResponse = new Map<string, TurnRecord>();

  constructor(turns: number) {
    this.records = Array.from({ length: turns + 1 }, (_, index) => ({
      index,
      heard: 0,
      discarded: 0,
      calls: [],
      replyMs: 0,
      interrupted: false,
      responses: [],
      errors: [],
      timedOut: false,
    }));
  }

  active(): TurnRecord {
    return this.records[this.activeIndex]!;
  }

  record(index: number): TurnRecord {
    return this.records[index]!;
  }

  /** The runner started speaking turn `index`: the next speech_started belongs to it. */
  speaking(index: number, atMs: number): void {
    this.pendingIndex = index;
    this.record(index).spokeAtMs = atMs;
  }

  /** Reply audio handed to the speaker. */
  played(ms: number): void {
    this.active().replyMs += ms;
  }

  observe(event: ChatEvent): void {
    switch (event.type) {
      case 'note':
        this.onNote(event.note);
        return;
      case 'metric':
        this.active().metric ??= event.metric;
        return;
      case 'played':
        if (event.reason === 'speech-started' && event.droppedMs > 0) this.markInterrupted(event.responseId);
        return;
      case 'connection':
        if (event.detail.status === 'retrying') {
          this.retries.push({ why: event.detail.why, attempt: event.detail.attempt, message: event.detail.error.message });
        }
        return;
      case 'frame':
        return;
    }
  }

  private onNote(note: Extract<ChatEvent, { type: 'note' }>['note']): void {
    const active = this.active();
    switch (note.kind) {
      case 'speech-started':
        if (this.pendingIndex > this.activeIndex) this.activeIndex = this.pendingIndex;
        return;
      case 'speech-stopped':
        active.heard += 1;
        return;
      case 'noise-discarded':
        active.discarded += 1;
        return;
      case 'response-started':
        active.responses.push({ id: note.responseId });
        this.byResponse.set(note.responseId, active);
        return;
      case 'response-done': {
        const owner = this.byResponse.get(note.responseId) ?? active;
        const response = owner.responses.find((r) => r.id === note.responseId);
        if (response) {
          response.status = note.status;
          if (note.reason !== undefined) response.reason = note.reason;
        }
        if (note.status === 'cancelled') owner.interrupted = true;
        return;
      }
      case 'interrupted':
        this.markInterrupted(note.responseId);
        return;
      case 'tool-call':
        active.calls.push({ callId: note.callId, name: note.name, argumentsText: note.argumentsText });
        return;
      case 'tool-result': {
        const call = this.records.flatMap((r) => r.calls).find((c) => c.callId === note.callId);
        if (call) Object.assign(call, { ok: note.ok, output: note.output, durationMs: note.durationMs });
        return;
      }
      case 'server-error': {
        const error = { code: note.code, message: note.message };
        active.errors.push(error);
        this.errors.push(error);
        return;
      }
      case 'warning':
        this.warnings.push({ code: note.code, message: note.message });
        return;
      default:
        return;
    }
  }

  private markInterrupted(responseId: string): void {
    (this.byResponse.get(responseId) ?? this.active()).interrupted = true;
  }

  /** The turn's reply is over as far as the records go (the runner adds quiet + speaker idle). */
  replyOver(index: number): boolean {
    const rec = this.record(index);
    if (index < this.activeIndex) return true; // a later turn took over
    if (index > this.activeIndex) return false; // not heard yet
    if (index === 0) return rec.responses.some((r) => r.status !== undefined);
    if (rec.heard === 0) return false;
    if (rec.heard === rec.discarded) return true; // noise: no reply comes
    return rec.responses.some((r) => r.status !== undefined);
  }
}
