/**
 * The speaker: model audio out through PortAudio, with barge-in that stops it within a chunk.
 * Our queue lives in the audio host, which hands PortAudio one 20 ms chunk at a time (silence when
 * the queue is empty, so the device never underflows); flush() clears it and bumps an epoch so
 * that acks of audio already in flight are ignored. Here we mirror what was sent, to know what was
 * really played (acks), when the queue runs dry, and to tap the played audio for recording.
 */
import { HydraError } from '../errors.js';
import { hrtimeToPerf, type AudioHost } from './host/client.js';
import { isFormatProblem, openHostStream } from './host/open.js';
import type { DeviceInfo, FromHost } from './host/protocol.js';
import { msForBytes } from './pcm.js';
import { createResampler, type Resampler } from './resample.js';
import type { AudioSink } from './types.js';

export const CHUNK_MS = 20;
/** No ack for this long while open: the device or the sound server is gone. */
const WATCHDOG_MS = 500;

export type Speaker = AudioSink & {
  readonly device: DeviceInfo;
  /** The rate the device runs at (the session's, unless the device refused it and we resample). */
  readonly deviceRate: number;
  /** Audio handed to PortAudio after the last flush() began (ms): the barge-in residue, ≤ one chunk. */
  residueAfterFlushMs(): number;
};

export async function openSpeaker(device: DeviceInfo, sampleRate: number, options: { onWarning?: (line: string) => void } = {}): Promise<Speaker> {
  let speaker: SpeakerImpl | null = null;
  const handlers = {
    onMessage: (message: FromHost) => speaker?.onHostMessage(message),
    onExit: (why: string) => speaker?.lost(why),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  };
  const spec = (rate: number) => ({ direction: 'out' as const, deviceId: device.id, sampleRate: rate, channels: 1, chunkFrames: (rate * CHUNK_MS) / 1000 });
  const label = `output device ${device.id} "${device.name}"`;
  let deviceRate = sampleRate;
  let host: AudioHost;
  try {
    host = await openHostStream(spec(sampleRate), label, handlers);
  } catch (error) {
    if (!isFormatProblem(error) || device.defaultSampleRate === sampleRate) throw error;
    deviceRate = device.defaultSampleRate;
    host = await openHostStream(spec(deviceRate), label, handlers);
  }
  const resampler = await createResampler(sampleRate, deviceRate);
  speaker = new SpeakerImpl(host, device, sampleRate, deviceRate, resampler);
  return speaker;
}

class SpeakerImpl implements Speaker {
  readonly sampleRate: number;
  readonly deviceRate: number;
  readonly device: DeviceInfo;
  onPlayed?: ((pcm: Buffer, at: number, sampleRate?: number) => void) | undefined;
  onError?: ((error: HydraError) => void) | undefined;
  private readonly host: AudioHost;
  private readonly resampler: Resampler;
  /** Device-rate audio sent to the host and not yet acked, oldest first. */
  private mirror: Buffer[] = [];
  private mirrorBytes = 0;
  private epoch = 0;
  private played = 0;
  private residue = 0;
  private lastAck = performance.now();
  private closed = false;
  private readonly idleListeners = new Set<() => void>();
  private readonly watchdog: NodeJS.Timeout;

  constructor(host: AudioHost, device: DeviceInfo, sampleRate: number, deviceRate: number, resampler: Resampler) {
    this.host = host;
    this.device = device;
    this.sampleRate = sampleRate;
    this.deviceRate = deviceRate;
    this.resampler = resampler;
    this.watchdog = setInterval(() => {
      if (performance.now() - this.lastAck > WATCHDOG_MS) this.lost(`no progress for ${WATCHDOG_MS} ms`);
    }, 100);
    this.watchdog.unref();
  }

  write(pcm: Buffer): void {
    if (this.closed || pcm.length === 0) return;
    const out = this.resampler.process(pcm);
    if (out.length === 0) return;
    this.mirror.push(out);
    this.mirrorBytes += out.length;
    this.host.send({ op: 'write', pcm: out, epoch: this.epoch });
  }

  flush(): number {
    const dropped = this.mirrorBytes;
    this.epoch += 1;
    this.mirror = [];
    this.mirrorBytes = 0;
    this.residue = 0;
    this.host.send({ op: 'flush', epoch: this.epoch });
    return msForBytes(dropped, this.deviceRate);
  }

  idle(): boolean {
    return this.mirrorBytes === 0;
  }

  onIdle(listener: () => void): () => void {
    this.idleListeners.add(listener);
    return () => this.idleListeners.delete(listener);
  }

  playedMs(): number {
    return msForBytes(this.played, this.deviceRate);
  }

  markResponse(): void {
    this.played = 0;
  }

  residueAfterFlushMs(): number {
    return msForBytes(this.residue, this.deviceRate);
  }

  onHostMessage(message: FromHost): void {
    if (message.ev === 'error') {
      this.lost(message.message);
      return;
    }
    if (message.ev !== 'ack') return;
    this.lastAck = performance.now();
    if (message.epoch !== this.epoch) {
      this.residue += message.audioBytes;
      return;
    }
    if (message.audioBytes === 0) return;
    const chunk = this.take(message.audioBytes);
    this.played += chunk.length;
    this.onPlayed?.(chunk, hrtimeToPerf(message.hrtime), this.deviceRate);
    if (this.mirrorBytes === 0) for (const listener of [...this.idleListeners]) listener();
  }

  private take(bytes: number): Buffer {
    const parts: Buffer[] = [];
    let need = Math.min(bytes, this.mirrorBytes);
    this.mirrorBytes -= need;
    while (need > 0 && this.mirror.length > 0) {
      const head = this.mirror[0]!;
      if (head.length <= need) {
        parts.push(head);
        this.mirror.shift();
        need -= head.length;
      } else {
        parts.push(head.subarray(0, need));
        this.mirror[0] = head.subarray(need);
        need = 0;
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** The device is gone: stop, kill the host (its quit() would hang), report once. */
  lost(why: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.host.kill();
    this.onError?.(
      new HydraError('audio-device', `the speaker stopped: ${why}`, { hint: 'check the output device (hydra-chat devices); --output <wav> works without one' }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.mirror = [];
    this.mirrorBytes = 0;
    await this.host.close();
  }
}
