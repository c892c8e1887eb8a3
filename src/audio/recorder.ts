/**
 * `--record`: the conversation as heard, one stereo 48 kHz WAV, user on the left, model on the right.
 * Both streams are placed on one monotonic timeline (the time each chunk was sent or handed to the
 * speaker), so pauses, overlaps and cut-off replies land where they happened. The file is committed
 * a little behind real time and its header is rewritten after every write, so it is a valid WAV at
 * every instant: Ctrl-C, a crash or a kill loses at most the last ~100 ms.
 */
import type { HydraError } from '../errors.js';
import { createResampler, type Resampler } from './resample.js';
import { WavWriter } from './wav.js';

const RATE = 48000;
/** How far behind "now" the file is committed: room for chunks that arrive a little late. */
const COMMIT_LAG_MS = 120;
/** A chunk this close to the channel's cursor continues it (timer jitter is not a gap). */
const SLACK_MS = 40;

type Channel = { parts: Int16Array[]; cursor: number; resampler: Resampler | null; inRate: number };

export class ConversationRecorder {
  private readonly writer: WavWriter;
  private readonly now: () => number;
  private t0: number | null = null;
  /** Samples per channel already in the file. */
  private committed = 0;
  private readonly channels: [Channel, Channel] = [
    { parts: [], cursor: 0, resampler: null, inRate: 0 },
    { parts: [], cursor: 0, resampler: null, inRate: 0 },
  ];
  private closed = false;

  private constructor(writer: WavWriter, now: () => number) {
    this.writer = writer;
    this.now = now;
  }

  /**
   * Creates the file now (so an unwritable path fails before connecting, exit 15). `overwrite: false`
   * refuses an existing file (the CLI without --force); `onError` hears of a failed write (a full
   * disk), after which the file is finalised up to what reached the disk and recording stops.
   */
  static async create(
    path: string,
    options: { now?: () => number; overwrite?: boolean; onError?: (error: HydraError) => void } = {},
  ): Promise<ConversationRecorder> {
    let recorder: ConversationRecorder | null = null;
    const writer = await WavWriter.open(path, {
      sampleRate: RATE,
      channels: 2,
      flag: '--record',
      ...(options.overwrite === undefined ? {} : { overwrite: options.overwrite }),
      onError: (error) => {
        if (recorder) recorder.closed = true;
        options.onError?.(error);
      },
    });
    recorder = new ConversationRecorder(writer, options.now ?? (() => performance.now()));
    return recorder;
  }

  /** Why recording stopped early (a write failed), if it did. */
  get error(): HydraError | null {
    return this.writer.error;
  }

  get path(): string {
    return this.writer.path;
  }

  /** Seconds recorded so far. */
  get seconds(): number {
    return this.writer.bytes / 4 / RATE;
  }

  /** What the user said, as sent (16 kHz mono PCM16 by default). `at`: monotonic ms when it was sent. */
  async user(pcm: Buffer, at: number, sampleRate = 16000): Promise<void> {
    await this.add(0, pcm, at, sampleRate);
  }

  /** What the model said, as handed to the speaker. `at`: monotonic ms when it was handed over. */
  async model(pcm: Buffer, at: number, sampleRate: number): Promise<void> {
    await this.add(1, pcm, at, sampleRate);
  }

  private async add(index: 0 | 1, pcm: Buffer, at: number, sampleRate: number): Promise<void> {
    if (this.closed || pcm.length < 2) return;
    const channel = this.channels[index];
    if (channel.inRate !== sampleRate) {
      channel.resampler = await createResampler(sampleRate, RATE);
      channel.inRate = sampleRate;
    }
    if (this.closed) return;
    const upsampled = channel.resampler!.process(pcm);
    const samples = new Int16Array(upsampled.buffer, upsampled.byteOffset, upsampled.length >> 1).slice();
    this.t0 ??= at - (samples.length / RATE) * 1000;
    // Where this chunk began on the shared timeline: `at` marks its end for sent frames, its
    // hand-over for played ones; both are within a chunk of its start, well inside the slack.
    const wanted = Math.round(((at - this.t0) / 1000) * RATE) - samples.length;
    const start = Math.max(channel.cursor, this.committed);
    if (wanted > start + (SLACK_MS / 1000) * RATE) this.pad(channel, wanted - channel.cursor);
    else if (start > channel.cursor) this.pad(channel, start - channel.cursor);
    channel.parts.push(samples);
    channel.cursor += samples.length;
    this.commit(at);
  }

  private pad(channel: Channel, samples: number): void {
    if (samples <= 0) return;
    channel.parts.push(new Int16Array(samples));
    channel.cursor += samples;
  }

  /** Writes everything older than the commit lag, filling a silent channel with zeros. */
  private commit(at: number, all = false): void {
    if (this.t0 === null) return;
    const horizon = all
      ? Math.max(this.channels[0].cursor, this.channels[1].cursor)
      : Math.round(((at - COMMIT_LAG_MS - this.t0) / 1000) * RATE);
    if (horizon <= this.committed) return;
    const count = horizon - this.committed;
    const left = this.take(this.channels[0], count);
    const right = this.take(this.channels[1], count);
    const out = Buffer.alloc(count * 4);
    for (let i = 0; i < count; i += 1) {
      out.writeInt16LE(left[i]!, i * 4);
      out.writeInt16LE(right[i]!, i * 4 + 2);
    }
    this.writer.write(out);
    this.committed = horizon;
  }

  /** The channel's next `count` samples from the commit point, zero-filled where it has none. */
  private take(channel: Channel, count: number): Int16Array {
    const out = new Int16Array(count);
    let filled = 0;
    while (filled < count && channel.parts.length > 0) {
      const head = channel.parts[0]!;
      const n = Math.min(head.length, count - filled);
      out.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.length) channel.parts.shift();
      else channel.parts[0] = head.subarray(n);
    }
    if (channel.cursor < this.committed + count) channel.cursor = this.committed + count;
    return out;
  }

  /** Writes what is left and finalises the file; safe to call more than once and from exit handlers. */
  closeSync(): void {
    if (this.closed) {
      this.writer.closeSync();
      return;
    }
    this.closed = true;
    this.commit(this.now(), true);
    this.writer.closeSync();
  }

  async close(): Promise<void> {
    this.closeSync();
  }
}
