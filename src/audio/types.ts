/** The narrow audio shapes the shell depends on; devices, files and fakes implement them. */
import type { HydraError } from '../errors.js';

/** 16 kHz mono PCM16 samples of one frame, with the monotonic time they were captured. */
export type AudioFrame = { pcm: Buffer; at: number };

/** Frames of `frameMs` each, paced at real time. */
export interface AudioSource {
  readonly frameMs: number;
  start(onFrame: (frame: AudioFrame) => void, onError: (error: HydraError) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * What a flush left playing: `residueMs` from flush() until the last reply sample entered the device's
 * buffer (PortAudio's), `outputLatencyMs` how long that buffer takes to reach the speaker (null when
 * unknown, e.g. no device). The speaker is silent residueMs + outputLatencyMs after the flush.
 */
export type FlushReport = { residueMs: number; outputLatencyMs: number | null };

/** Plays model audio (PCM16 mono at `sampleRate`). */
export interface AudioSink {
  readonly sampleRate: number;
  /** Queue audio; never blocks; playback starts as soon as data arrives. */
  write(pcm: Buffer): void;
  /** Drop everything queued and stop now; returns the ms of audio dropped. */
  flush(): number;
  /** Nothing queued or playing. */
  idle(): boolean;
  /** Called each time the queue runs dry; returns a disposer. */
  onIdle(listener: () => void): () => void;
  /** Ms actually played since the last markResponse(). */
  playedMs(): number;
  /** A new response starts: reset the played counter. */
  markResponse(): void;
  /** Tap: exactly what was handed to the device (silence excluded) at `sampleRate` (default: the sink's), e.g. for recording. */
  onPlayed?: ((pcm: Buffer, at: number, sampleRate?: number) => void) | undefined;
  /** Set by the owner: something worth one line to the user (e.g. audio dropped: the queue is full). The sink never prints. */
  onWarning?: ((message: string) => void) | undefined;
  /** Set by the owner: called once per flush() when its FlushReport is known (a device sink: within ~2 periods). */
  onFlushed?: ((report: FlushReport) => void) | undefined;
  /** The report of the last flush() once known, else undefined. */
  lastFlush?(): FlushReport | undefined;
  /** Set by the owner: the device failed mid-session (unplugged, sound server gone). */
  onError?: ((error: HydraError) => void) | undefined;
  close(): Promise<void>;
}
