/**
 * Messages between hydra-chat and its audio host (a child process that owns one naudiodon stream).
 * Sent over Node's IPC channel with `serialization: 'advanced'`, so Buffers travel as bytes.
 */

/** What PortAudio reports about a device (naudiodon's getDevices()). */
export type DeviceInfo = {
  id: number;
  name: string;
  hostAPIName: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
};

export type DeviceList = { devices: DeviceInfo[]; defaultInput: number | null; defaultOutput: number | null };

export type StreamSpec = {
  direction: 'in' | 'out';
  deviceId: number;
  sampleRate: number;
  channels: number;
  /** Samples per channel per chunk (one read or one write). */
  chunkFrames: number;
};

export type ToHost =
  | { op: 'devices' }
  | { op: 'open'; spec: StreamSpec }
  /** Output: queue device-rate PCM16 for this flush epoch. */
  | { op: 'write'; pcm: Uint8Array; epoch: number }
  /** Output: drop everything queued; later writes carry the new epoch. */
  | { op: 'flush'; epoch: number }
  | { op: 'close' };

export type FromHost =
  | { ev: 'devices'; list: DeviceList }
  | { ev: 'opened' }
  | { ev: 'error'; message: string }
  /** Input: one chunk as read, stamped with process.hrtime.bigint() (the same monotonic clock in every process). */
  | { ev: 'data'; pcm: Uint8Array; hrtime: bigint }
  /**
   * Output: one chunk accepted by PortAudio, `hrtime` when it was handed over; `audioBytes` of it were
   * queued audio (the rest silence). Chunks of pure silence are acked at most every 100 ms.
   */
  | { ev: 'ack'; audioBytes: number; epoch: number; hrtime: bigint }
  | { ev: 'closed' };
