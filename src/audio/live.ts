/**
 * Live audio for a chat: the device list (read once, in an audio host), then the microphone and the
 * speaker the user named (or the defaults). The only module the CLI asks for devices.
 */
import { listDevices, resolveDevice, type DeviceList } from './devices.js';
import { openMicrophone, type Microphone } from './microphone.js';
import { openSpeaker, type Speaker } from './speaker.js';

export type LiveAudioOptions = {
  inputDevice?: string | undefined;
  outputDevice?: string | undefined;
  onWarning?: (line: string) => void;
  signal?: AbortSignal;
};

export class LiveAudio {
  private list: Promise<DeviceList> | null = null;
  private readonly options: LiveAudioOptions;

  constructor(options: LiveAudioOptions) {
    this.options = options;
  }

  devices(): Promise<DeviceList> {
    this.list ??= listDevices(this.options.signal);
    return this.list;
  }

  async microphone(frameMs: number): Promise<Microphone> {
    const device = resolveDevice(await this.devices(), this.options.inputDevice, 'in');
    return openMicrophone(device, { frameMs, ...(this.options.onWarning ? { onWarning: this.options.onWarning } : {}) });
  }

  async speaker(sampleRate: number): Promise<Speaker> {
    const device = resolveDevice(await this.devices(), this.options.outputDevice, 'out');
    return openSpeaker(device, sampleRate, this.options.onWarning ? { onWarning: this.options.onWarning } : {});
  }
}
