/**
 * The microphone: PortAudio input in an audio host, turned into 16 kHz mono frames of `frameMs`.
 * Asks the device for 16 kHz mono; a device that refuses is opened at its own rate (and channel
 * count) and downmixed + resampled with Speex. Frames are paced by the device clock; when the device
 * stalls, silence frames keep the stream at real time, and a device silent for a second is reported
 * lost. Each frame carries the time its chunk left the device callback (a shared monotonic clock), so
 * the shell can measure device → socket latency.
 */
import { HydraError } from '../errors.js';
import { isFormatProblem, openHostStream, type HostStream } from './host/open.js';
import type { DeviceInfo } from './host/protocol.js';
import { clockToPerf, Kind, type Record } from './host/wire.js';
import { bytesForMs, downmix, Framer, samplesOf, silence } from './pcm.js';
import { createResampler, type Resampler } from './resample.js';
import type { AudioFrame, AudioSource } from './types.js';

const RATE = 16000;
const CHUNK_MS = 20;
/** No data for this long: the device (or sound server) is gone. */
const LOST_MS = 1000;
/** How often the stall guard looks (it fills in the frames a stalled device missed). */
const STALL_CHECK_MS = 100;

export type Microphone = AudioSource & { readonly device: DeviceInfo; readonly deviceRate: number; readonly deviceChannels: number };

export async function openMicrophone(device: DeviceInfo, options: { frameMs: number; onWarning?: (line: string) => void }): Promise<Microphone> {
  let mic: MicrophoneImpl | null = null;
  const handlers = {
    onRecord: (record: Record) => mic?.onRecord(record),
    onLost: (why: string) => mic?.lost(why),
    onWarning: options.onWarning,
  };
  const label = `input device ${device.id} "${device.name}"`;
  const attempts: { rate: number; channels: number }[] = [
    { rate: RATE, channels: 1 },
    { rate: device.defaultSampleRate, channels: 1 },
    { rate: device.defaultSampleRate, channels: Math.max(1, Math.min(device.maxInputChannels, 2)) },
  ];
  let host: HostStream | null = null;
  let chosen = attempts[0]!;
  let lastError: unknown = null;
  for (const attempt of attempts) {
    try {
      host = await openHostStream(
        { direction: 'in', deviceId: device.id, sampleRate: attempt.rate, channels: attempt.channels, chunkFrames: Math.round((attempt.rate * CHUNK_MS) / 1000) },
        label,
        handlers,
      );
      chosen = attempt;
      break;
    } catch (error) {
      lastError = error;
      if (!isFormatProblem(error)) throw error;
    }
  }
  if (!host) throw lastError;
  const resampler = await createResampler(chosen.rate, RATE);
  mic = new MicrophoneImpl(host, device, options.frameMs, chosen.rate, chosen.channels, resampler);
  return mic;
}

class MicrophoneImpl implements Microphone {
  readonly frameMs: number;
  readonly device: DeviceInfo;
  readonly deviceRate: number;
  readonly deviceChannels: number;
  private readonly host: HostStream;
  private readonly resampler: Resampler;
  private readonly framer: Framer;
  private onFrame: ((frame: AudioFrame) => void) | null = null;
  private onError: ((error: HydraError) => void) | null = null;
  private lastData = performance.now();
  private lastEmit = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(host: HostStream, device: DeviceInfo, frameMs: number, deviceRate: number, deviceChannels: number, resampler: Resampler) {
    this.host = host;
    this.device = device;
    this.frameMs = frameMs;
    this.deviceRate = deviceRate;
    this.deviceChannels = deviceChannels;
    this.resampler = resampler;
    this.framer = new Framer(bytesForMs(frameMs, RATE));
  }

  async start(onFrame: (frame: AudioFrame) => void, onError: (error: HydraError) => void): Promise<void> {
    this.onFrame = onFrame;
    this.onError = onError;
    this.lastData = performance.now();
    this.lastEmit = this.lastData;
    // Stall guard: while the device delivers nothing, silence keeps the stream at real time.
    this.timer = setInterval(() => this.checkStall(), STALL_CHECK_MS);
  }

  private checkStall(): void {
    const now = performance.now();
    if (now - this.lastData > LOST_MS) {
      this.lost(`no audio for ${LOST_MS} ms`);
      return;
    }
    while (now - this.lastEmit >= 3 * this.frameMs) {
      this.lastEmit += this.frameMs;
      this.onFrame?.({ pcm: silence(this.frameMs, RATE), at: now });
    }
  }

  onRecord(record: Record): void {
    if (record.kind !== Kind.data || this.closed) return;
    const now = performance.now();
    this.lastData = now;
    if (!this.onFrame) return; // not started yet: drop, the session is not listening
    let pcm = record.payload;
    if (this.deviceChannels > 1) {
      const mono = downmix(samplesOf(pcm), this.deviceChannels);
      pcm = Buffer.from(mono.buffer, mono.byteOffset, mono.byteLength);
    }
    const at = clockToPerf(record.time);
    for (const frame of this.framer.push(this.resampler.process(pcm))) {
      this.lastEmit = now;
      this.onFrame({ pcm: frame, at });
    }
  }

  lost(why: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    void this.host.close();
    this.onError?.(
      new HydraError('audio-device', `the microphone stopped: ${why}`, { hint: 'check the input device (hydra-chat devices); --input <wav> works without one' }),
    );
  }

  /** Resolves once the stream is gone (also after lost(): the host may still be shutting down). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.host.close();
  }
}
