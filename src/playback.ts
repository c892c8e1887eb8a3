/**
 * The model's audio on its way out: the sink (opened once the output rate is known; inputs wait for
 * it in order), the --output file, and what a flush dropped.
 */
import type { AudioSink, FlushReport } from './audio/types.js';
import type { ChatEvent } from './chat-types.js';

type PlayedEvent = Extract<ChatEvent, { type: 'played' }>;

/** The longest a 'played' event waits for the sink's flush report (a device sink: ~2 periods). */
const REPORT_WAIT_MS = 250;

/** A flush report as the event's fields: the speaker is silent `silentAfterMs` after the flush. */
function silence(report: FlushReport): Pick<PlayedEvent, 'residueMs' | 'outputLatencyMs' | 'silentAfterMs'> {
  const residueMs = Math.round(report.residueMs);
  const outputLatencyMs = report.outputLatencyMs === null ? null : Math.round(report.outputLatencyMs);
  return { residueMs, outputLatencyMs, silentAfterMs: outputLatencyMs === null ? null : residueMs + outputLatencyMs };
}
import { ReplyFile } from './reply-file.js';
import { createResampler, type Resampler } from './audio/resample.js';

export class Playback {
  sink: AudioSink | null = null;
  private opening: Promise<void> | null = null;
  private waiting: (() => void)[] = [];
  private playedResponse: string | null = null;
  private flushes = 0;
  private readonly output: ReplyFile | null;
  /** The rate the sink (and --output) were opened at: a later session's audio is converted to it. */
  private rate = 0;
  private resampler: Resampler | null = null;
  private converting = false;
  private closed = false;

  constructor(outputPath: string | undefined, onOutputError: (error: unknown) => void) {
    this.output = outputPath === undefined ? null : new ReplyFile(outputPath, onOutputError);
  }

  /** The sink is being opened: whatever must wait for it is queued (in order) by `whenReady`. */
  opened(): boolean {
    return (this.opening === null || this.sink !== null) && !this.converting;
  }

  /** Runs `then` now if the sink is open (or not being opened), else once it is. */
  whenReady(then: () => void): void {
    if (this.opened()) then();
    else this.waiting.push(then);
  }

  /**
   * The output rate of a session (its session.configured): the sink is opened once, at the first
   * session's rate; a later session announcing another one gets its audio converted to it, so the
   * speaker and --output stay one rate. `then` runs once that is in place (queued behind anything waiting).
   */
  open(rate: number, openSink: () => Promise<AudioSink>, then: () => void, onError: (error: unknown) => void): void {
    this.waiting.push(then);
    if (this.opening === null) {
      this.rate = rate;
      this.opening = openSink().then((sink) => {
        // Opened after the chat ended (a slow device, a session that closed meanwhile): closed at once.
        if (this.closed) return void sink.close().catch(() => undefined);
        this.sink = sink;
        this.runWaiting();
      }, onError);
      return;
    }
    if (!this.opened()) return; // opening or converting: `then` waits its turn
    if (rate === this.rate) {
      this.resampler = null;
      return this.runWaiting();
    }
    this.converting = true;
    createResampler(rate, this.rate).then((resampler) => {
      this.resampler = resampler;
      this.converting = false;
      this.runWaiting();
    }, onError);
  }

  private runWaiting(): void {
    for (const run of this.waiting.splice(0)) run();
  }

  play(pcm: Buffer, responseId: string): void {
    if (this.sink && this.playedResponse !== responseId) {
      this.sink.markResponse();
      this.playedResponse = responseId;
    }
    const audio = this.resampler === null ? pcm : this.resampler.process(pcm);
    this.sink?.write(audio);
    this.output?.write(audio, this.rate);
  }

  /**
   * Drops what is queued and hands `emit` the 'played' event to report, if any: with how long the
   * speaker still sounds (the sink's FlushReport: reply audio PortAudio still took, plus its output
   * latency). A device sink knows that within ~2 periods of the flush: the event waits for it (at most
   * REPORT_WAIT_MS, then goes without). A sink with no device stops at once and has no latency.
   */
  flush(reason: string, emit: (event: PlayedEvent) => void): void {
    const sink = this.sink;
    if (!sink) return;
    const playedMs = sink.playedMs();
    sink.onFlushed = undefined;
    const droppedMs = sink.flush();
    if (this.playedResponse === null || (droppedMs <= 0 && reason === 'new-response')) return;
    const event: PlayedEvent = { type: 'played', responseId: this.playedResponse, playedMs, droppedMs, reason };
    if (sink.lastFlush === undefined) return emit({ ...event, residueMs: 0, outputLatencyMs: null, silentAfterMs: null });
    let done = false;
    const finish = (report: FlushReport | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (sink.onFlushed === finish) sink.onFlushed = undefined;
      emit(report ? { ...event, ...silence(report) } : event);
    };
    const flushes = ++this.flushes;
    // A later flush's report is not this one's.
    const timer = setTimeout(() => finish(flushes === this.flushes ? sink.lastFlush?.() : undefined), REPORT_WAIT_MS);
    timer.unref();
    const ready = sink.lastFlush();
    if (ready) finish(ready);
    else sink.onFlushed = finish;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting = [];
    await Promise.allSettled([this.sink?.close(), this.output?.close()]);
  }
}
