/**
 * transcript.jsonl of one run: every frame both ways (audio elided) and every chat event, one JSON
 * object a line, `t` in ms on one monotonic clock from the start of the run. Sent audio is counted,
 * not dumped: a `{dir:'out', audio:{frames, ms}}` line sums the frames sent since the last line.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { ChatEvent } from '../chat.js';
import { jsonEvent } from '../chat-command.js';
import { HydraError } from '../errors.js';
import { jsonText } from '../ui/json-text.js';

export class TranscriptWriter {
  private fd: number | null;
  private lastT = 0;
  private audio = { frames: 0, ms: 0, lastAt: 0 };
  private readonly t0: number;

  private constructor(fd: number, t0: number) {
    this.fd = fd;
    this.t0 = t0;
  }

  /** `t0`: the monotonic ms every `t` counts from. */
  static open(path: string, t0: number): TranscriptWriter {
    try {
      return new TranscriptWriter(openSync(path, 'w'), t0);
    } catch (error) {
      throw new HydraError('output-file', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
  }

  /** A chat event; frames carry their own time (ms since the chat started, ≈ t0). */
  event(event: ChatEvent, now: number): void {
    this.flushAudio();
    this.write(event.type === 'frame' ? event.at : now - this.t0, (t) => jsonEvent(event, t));
  }

  /** A line of the runner's own (turn markers). */
  note(fields: Record<string, unknown>, now: number): void {
    this.flushAudio();
    this.write(now - this.t0, (t) => ({ t, ...fields }));
  }

  /** An audio frame was sent: counted into the next audio line. */
  sentAudio(ms: number, at: number): void {
    this.audio.frames += 1;
    this.audio.ms += ms;
    this.audio.lastAt = at;
  }

  close(): void {
    this.flushAudio();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private flushAudio(): void {
    if (this.audio.frames === 0) return;
    const { frames, ms, lastAt } = this.audio;
    this.audio = { frames: 0, ms: 0, lastAt: 0 };
    this.write(lastAt - this.t0, (t) => ({ t, dir: 'out', audio: { type: 'input_audio_buffer.append', frames, ms } }));
  }

  private write(tMs: number, line: (t: number) => Record<string, unknown>): void {
    if (this.fd === null) return;
    // Events are written in the order they happened; clamp so rounding never runs the clock back.
    this.lastT = Math.max(this.lastT, Math.round(tMs * 10) / 10);
    // Like --json: redacted (a tool's output, a server message echoing the key), one line per record.
    writeSync(this.fd, `${jsonText(line(this.lastT))}\n`);
  }
}
