/** --output: the model's audio as received, to a WAV at the session's rate, opened on the first write. */
import { WavWriter } from './audio/wav.js';

export class ReplyFile {
  private writer: WavWriter | null = null;
  private opening: Promise<WavWriter> | null = null;

  private readonly path: string;
  private readonly onError: (error: unknown) => void;

  constructor(path: string, onError: (error: unknown) => void) {
    this.path = path;
    this.onError = onError;
  }

  write(pcm: Buffer, sampleRate: number): void {
    if (this.writer) {
      this.writer.write(pcm);
      return;
    }
    this.opening ??= WavWriter.open(this.path, { sampleRate, channels: 1, flag: '--output', onError: this.onError }).then((writer) => (this.writer = writer));
    this.opening.then((writer) => writer.write(pcm), this.onError);
  }

  async close(): Promise<void> {
    const writer = this.writer ?? (this.opening ? await this.opening.catch(() => null) : null);
    await writer?.close();
  }
}
