/**
 * A file as the microphone across reconnects (issue 12.1): it starts at `session.configured` (never
 * audio before it, hydra-protocol §2.2), stands still while no session is configured, and after a
 * reconnect speaks the turn that was not answered again from its start. Each answered turn marks the
 * point to come back to.
 */
import type { AudioSource } from './audio/types.js';

/** A source that can stand still and go back (audio/file-source.ts). */
export type ReplayableSource = AudioSource & {
  pause(): void;
  resume(): void;
  mark(): void;
  rewind(): void;
  atEnd(): boolean;
};

export function isReplayable(source: AudioSource): source is ReplayableSource {
  const s = source as Partial<ReplayableSource>;
  return typeof s.rewind === 'function' && typeof s.mark === 'function' && typeof s.pause === 'function' && typeof s.atEnd === 'function';
}

export class FileInput {
  private started = false;
  private positionMs = 0;
  private markedMs = 0;
  /** Silence sent after the file's last byte, in ms; -1 while the file is still playing. */
  private trailingMs = -1;
  /** The server heard speech since the last answered turn: a turn is open. */
  private turnOpen = false;

  private readonly source: ReplayableSource;

  constructor(source: ReplayableSource) {
    this.source = source;
  }

  /**
   * A session is configured: start, or go back to the last answered turn. Returns where it went back
   * from and to when a turn the server had heard was left unanswered (say so), else null.
   */
  configured(start: () => void): { from: number; to: number } | null {
    if (!this.started) {
      this.started = true;
      start();
      return null;
    }
    const from = this.positionMs;
    this.source.rewind();
    this.positionMs = this.markedMs;
    if (!this.source.atEnd()) this.trailingMs = -1;
    this.source.resume();
    const replayed = this.turnOpen && from - this.markedMs >= this.source.frameMs;
    this.turnOpen = false;
    return replayed ? { from, to: this.markedMs } : null;
  }

  /** The session ended: nothing flows until the next one is configured. */
  sessionEnded(): void {
    if (this.started) this.source.pause();
  }

  /** A turn was answered: a reconnect from here on does not speak it again. */
  answered(): void {
    this.source.mark();
    this.markedMs = this.positionMs;
    this.turnOpen = false;
  }

  /** The server heard speech (speech_started). */
  speech(): void {
    this.turnOpen = true;
  }

  /** One frame went out. */
  frame(): void {
    if (this.trailingMs >= 0) this.trailingMs += this.source.frameMs;
    else if (this.source.atEnd()) this.trailingMs = 0;
    else this.positionMs += this.source.frameMs;
  }

  /** Ms of silence sent since the file ended (-1: not ended yet). */
  silenceAfterEnd(): number {
    return this.trailingMs;
  }
}

/** The one line saying a turn is spoken again. */
export function replayLine(atMs: number, inputName = 'the input'): string {
  return `the turn at ${(atMs / 1000).toFixed(1)} s of ${inputName} was not answered before the connection was lost; saying it again from there`;
}
