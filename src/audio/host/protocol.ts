/**
 * Control messages between hydra-chat and its audio host (one child process for every stream: the
 * device list, the microphone and the speaker). They travel on Node's IPC channel as JSON; audio does
 * not (see ./wire.ts). Streams are numbered by the parent.
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
  /** Input: samples per channel per read. Output: samples per PortAudio callback (its period). */
  chunkFrames: number;
};

export type ToHost =
  | { op: 'devices' }
  | { op: 'open'; stream: number; spec: StreamSpec }
  /** Stop one stream (the host stays for the others). */
  | { op: 'close'; stream: number }
  /** Stop everything and exit. */
  | { op: 'exit' };

export type FromHost =
  | { ev: 'devices'; list: DeviceList }
  | { ev: 'opened'; stream: number }
  | { ev: 'closed'; stream: number }
  /** `stream` absent: the host as a whole (e.g. the addon cannot load). */
  | { ev: 'error'; stream?: number; message: string };
