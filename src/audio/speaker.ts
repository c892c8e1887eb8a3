/**
 * The speaker: model audio out through PortAudio, with barge-in that stops it within one period.
 * The queue lives in the audio host (./host/output.ts), which keeps at most one 20 ms period ahead of
 * PortAudio's callback (silence when there is nothing to play, so the device never underflows);
 * flush() clears it and bumps an epoch so that acks of audio already in flight are ignored. Here we
 * mirror what was sent, to know what was really played (acks), when the queue runs dry, and to tap the
 * played audio for recording. The queue is capped (MAX_QUEUE_MS, ./byte-queue.ts): audio beyond it is
 * dropped with one warning per episode — a server sending faster than real time cannot grow memory.
 *
 * Acks arrive up to one mic period after the audio was handed to PortAudio: the host sends each one
 * with its next mic chunk (./host/outbox.ts). Nothing here depends on when an ack arrives, only on
 * the time it carries (onPlayed's `at`: the echo canceller's reference, the wire→speaker figure); what
 * arrival moves is bookkeeping: playedMs(), idle() and onIdle listeners lag by ≤ one period, and the
 * watchdog (WATCHDOG_MS) is far longer than that.
 */
import { HydraError } from '../errors.js';
import { ByteQueue, MAX_QUEUE_MS, PlaybackCap } from './byte-queue.js';
import { isFormatProblem, openHostStream, type HostStream } from './host/open.js';
import type { DeviceInfo } from './host/protocol.js';
import { clockToPerf, encodeRecord, Kind, type Record } from './host/wire.js';
import { msForBytes } from './pcm.js';
import { createResampler, type Resampler } from './resample.js';
import type { AudioSink, FlushReport } from './types.js';

/** PortAudio's callback period: the unit of everything ahead of the device. */
export const CHUNK_MS = 20;
/**
 * PortAudio's own output buffer when naudiodon does not say (it truncates latencies to whole seconds):
 * PortAudio's ALSA host API opens our stream with 2 periods (Pa_GetStreamInfo: 40 ms for 960 frames at
 * 48 kHz, verified on the virtual device). The sound server may add more; the echo test can measure it.
 */
export const OUTPUT_LATENCY_ESTIMATE_MS = 2 * CHUNK_MS;
/** No ack for this long while open: the device or the sound server is gone. */
const WATCHDOG_MS = 500;

export type Speaker = AudioSink & {
  readonly device: DeviceInfo;
  /** The rate the device runs at (the session's, unless the device refused it and we resample). */
  readonly deviceRate: number;
  /** Reply audio PortAudio still took after the last flush() (ms): the barge-in residue, ≤ one period. */
  residueAfterFlushMs(): number;
  lastFlush(): FlushReport | undefined;
};

export type SpeakerOptions = {
  onWarning?: (line: string) => void;
  /** The device's output latency if measured (e.g. by the echo test); else OUTPUT_LATENCY_ESTIMATE_MS. */
  outputLatencyMs?: number;
  /** Queue cap (ms of audio); MAX_QUEUE_MS unless given. */
  maxQueueMs?: number;
};

export async function openSpeaker(device: DeviceInfo, sampleRate: number, options: SpeakerOptions = {}): Promise<Speaker> {
  let speaker: SpeakerImpl | null = null;
  const handlers = {
    onRecord: (record: Record) => speaker?.onRecord(record),
    onLost: (why: string) => speaker?.lost(why),
    onWarning: options.onWarning,
  };
  const spec = (rate: number) => ({ direction: 'out' as const, deviceId: device.id, sampleRate: rate, channels: 1, chunkFrames: (rate * CHUNK_MS) / 1000 });
  const label = `output device ${device.id} "${device.name}"`;
  let deviceRate = sampleRate;
  let stream: HostStream;
  try {
    stream = await openHostStream(spec(sampleRate), label, handlers);
  } catch (error) {
    if (!isFormatProblem(error) || device.defaultSampleRate === sampleRate) throw error;
    deviceRate = device.defaultSampleRate;
    stream = await openHostStream(spec(deviceRate), label, handlers);
  }
  const resampler = await createResampler(sampleRate, deviceRate);
  speaker = new SpeakerImpl(stream, device, sampleRate, deviceRate, resampler, options);
  return speaker;
}

class SpeakerImpl implements Speaker {
  readonly sampleRate: number;
  readonly deviceRate: number;
  readonly device: DeviceInfo;
  onPlayed?: ((pcm: Buffer, at: number, sampleRate?: number) => void) | undefined;
  onError?: ((error: HydraError) => void) | undefined;
  onWarning?: ((message: string) => void) | undefined;
  onFlushed?: ((report: FlushReport) => void) | undefined;
  private readonly stream: HostStream;
  private readonly resampler: Resampler;
  private readonly outputLatencyMs: number;
  private readonly cap: PlaybackCap;
  /** Device-rate audio sent to the host and not yet acked, oldest first. */
  private readonly mirror = new ByteQueue();
  private epoch = 0;
  private played = 0;
  private residue = 0;
  private flushAt = 0;
  private report: FlushReport | undefined;
  private lastAck = performance.now();
  private closed = false;
  private readonly idleListeners = new Set<() => void>();
  /** Armed only while audio waits for acks: an idle speaker runs no timer. */
  private watchdog: NodeJS.Timeout | null = null;

  constructor(stream: HostStream, device: DeviceInfo, sampleRate: number, deviceRate: number, resampler: Resampler, options: SpeakerOptions) {
    this.stream = stream;
    this.device = device;
    this.sampleRate = sampleRate;
    this.deviceRate = deviceRate;
    this.resampler = resampler;
    this.outputLatencyMs = options.outputLatencyMs ?? OUTPUT_LATENCY_ESTIMATE_MS;
    this.cap = new PlaybackCap(options.maxQueueMs ?? MAX_QUEUE_MS, (deviceRate * 2) / 1000);
  }

  write(pcm: Buffer): void {
    if (this.closed || pcm.length === 0) return;
    const out = this.cap.fit(this.mirror.length, this.resampler.process(pcm), this.onWarning);
    if (out.length === 0) return;
    if (this.mirror.length === 0) this.watch();
    this.mirror.push(out);
    this.stream.host.sendAudio(encodeRecord(Kind.write, this.stream.id, this.epoch, 0, 0, out));
  }

  flush(): number {
    const dropped = this.mirror.clear();
    this.unwatch();
    this.epoch += 1;
    this.residue = 0;
    this.report = undefined;
    this.cap.reset();
    this.flushAt = performance.now();
    this.stream.host.sendAudio(encodeRecord(Kind.flush, this.stream.id, this.epoch, 0, 0));
    return msForBytes(dropped, this.deviceRate);
  }

  idle(): boolean {
    return this.mirror.length === 0;
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

  lastFlush(): FlushReport | undefined {
    return this.report;
  }

  onRecord(record: Record): void {
    if (record.kind === Kind.flushed) {
      if (record.a !== this.epoch) return; // a later flush supersedes it
      this.residue = record.b;
      this.report = { residueMs: record.time > 0 ? Math.max(0, clockToPerf(record.time) - this.flushAt) : 0, outputLatencyMs: this.outputLatencyMs };
      this.onFlushed?.(this.report);
      return;
    }
    if (record.kind !== Kind.ack) return;
    this.lastAck = performance.now();
    if (record.a !== this.epoch || record.b === 0) return;
    const chunk = this.mirror.take(record.b);
    this.played += chunk.length;
    this.onPlayed?.(chunk, clockToPerf(record.time), this.deviceRate);
    if (this.mirror.length === 0) {
      this.unwatch();
      this.cap.reset();
      for (const listener of [...this.idleListeners]) listener();
    }
  }

  /**
   * Audio starts waiting for acks: check for progress WATCHDOG_MS from now. The check re-arms itself
   * for whatever is left of WATCHDOG_MS after the last ack, so acks cost no timer work (a timer
   * refreshed per ack would wake this process once per WATCHDOG_MS anyway).
   */
  private watch(): void {
    this.lastAck = performance.now();
    this.watchdog ??= this.arm(WATCHDOG_MS);
  }

  private arm(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.watchdog = null;
      if (this.closed || this.mirror.length === 0) return;
      const quiet = performance.now() - this.lastAck;
      if (quiet >= WATCHDOG_MS) this.lost(`no progress for ${WATCHDOG_MS} ms`);
      else this.watchdog = this.arm(WATCHDOG_MS - quiet);
    }, ms);
    timer.unref();
    return timer;
  }

  private unwatch(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  /** The device is gone: stop, let the host go (killed if PortAudio hangs), report once. */
  lost(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    void this.stream.close();
    this.onError?.(
      new HydraError('audio-device', `the speaker stopped: ${why}`, { hint: 'check the output device (hydra-chat devices); --output <wav> works without one' }),
    );
  }

  /** Resolves once the stream is gone (also after lost(): the host may still be shutting down). */
  async close(): Promise<void> {
    this.closed = true;
    this.unwatch();
    this.mirror.clear();
    await this.stream.close();
  }
}
