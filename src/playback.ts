/**
 * The model's audio on its way out: the sink (opened once the output rate is known; inputs wait for
 * it in order), the --output file, and what a flush dropped.
 */
import type { AudioSink } from './audio/types.js';
import type { ChatEvent } from './chat-types.js';
import { ReplyFile } from './reply-file.js';

export class Playback {
  sink: AudioSink | null = null;
  private opening: Promise<void> | null = null;
  private waiting: (() => void)[] = [];
  private playedResponse: string | null = null;
  private readonly output: ReplyFile | null;

  constructor(outputPath: string | undefined, onOutputError: (error: unknown) => void) {
    this.output = outputPath === undefined ? null : new ReplyFile(outputPath, onOutputError);
  }

  /** The sink is being opened: whatever must wait for it is queued (in order) by `whenReady`. */
  opened(): boolean {
    return this.opening === null || this.sink !== null;
  }

  /** Runs `then` now if the sink is open (or not being opened), else once it is. */
  whenReady(then: () => void): void {
    if (this.opened()) then();
    else this.waiting.push(then);
  }

  /** Opens the sink once; `then` runs after it opened (queued behind anything already waiting). */
  open(openSink: () => Promise<AudioSink>, then: () => void, onError: (error: unknown) => void): void {
    this.waiting.push(then);
    this.opening ??= openSink().then(
      (sink) => {
        this.sink = sink;
        for (const run of this.waiting.splice(0)) run();
      },
      (error: unknown) => onError(error),
    );
  }

  play(pcm: Buffer, responseId: string, outputRate: number): void {
    if (this.sink && this.playedResponse !== responseId) {
      this.sink.markResponse();
      this.playedResponse = responseId;
    }
    this.sink?.write(pcm);
    this.output?.write(pcm, outputRate);
  }

  /** Drops what is queued; the 'played' event to report, if any. */
  flush(reason: string): Extract<ChatEvent, { type: 'played' }> | null {
    if (!this.sink) return null;
    const playedMs = this.sink.playedMs();
    const droppedMs = this.sink.flush();
    if (this.playedResponse === null || (droppedMs <= 0 && reason === 'new-response')) return null;
    return { type: 'played', responseId: this.playedResponse, playedMs, droppedMs, reason };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.sink?.close(), this.output?.close()]);
  }
}
