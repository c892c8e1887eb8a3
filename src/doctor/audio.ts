/**
 * doctor: the PortAudio addon (does the audio host list devices?), then the microphone and the speaker
 * the user would get (--input-device / --output-device or the defaults): they exist and open.
 */
import { DEFAULTS } from '../defaults.js';
import { HydraError } from '../errors.js';
import { fail, ok, skip, type Check } from './check.js';

const ADDON_FIX: Readonly<Record<string, string>> = {
  linux: 'sudo apt-get install build-essential python3 libasound2-dev && npm rebuild naudiodon',
  darwin: 'xcode-select --install && npm rebuild naudiodon',
  win32: 'install Visual Studio Build Tools (C++) and Python 3, then: npm rebuild naudiodon',
};

export type AudioCheckResult = { checks: Check[]; microphone: boolean; speaker: boolean };

export async function audioChecks(options: { inputDevice?: string | undefined; outputDevice?: string | undefined; signal: AbortSignal }): Promise<AudioCheckResult> {
  const { listDevices, resolveDevice } = await import('../audio/devices.js');
  let list: Awaited<ReturnType<typeof listDevices>>;
  try {
    list = await listDevices(options.signal);
  } catch (error) {
    const message = error instanceof HydraError ? error.message : String(error);
    const fix = ADDON_FIX[process.platform] ?? ADDON_FIX.linux!;
    const addon =
      error instanceof HydraError && error.code !== 'audio-unavailable'
        ? fail('portaudio', message, 'restart the sound server (e.g. `systemctl --user restart pipewire pulseaudio`)')
        : fail('portaudio', `the naudiodon addon does not load: ${message}`, fix);
    return { checks: [addon, skip('microphone', 'needs PortAudio'), skip('speaker', 'needs PortAudio')], microphone: false, speaker: false };
  }
  const checks: Check[] = [ok('portaudio', `naudiodon loads · ${list.devices.length} device${list.devices.length === 1 ? '' : 's'}`)];
  const { openMicrophone } = await import('../audio/microphone.js');
  const { openSpeaker } = await import('../audio/speaker.js');
  const microphone = await deviceCheck('microphone', '--input-device', () => resolveDevice(list, options.inputDevice, 'in'), async (device) => {
    const mic = await openMicrophone(device, { frameMs: DEFAULTS.frameMs });
    await mic.close();
  });
  const speaker = await deviceCheck('speaker', '--output-device', () => resolveDevice(list, options.outputDevice, 'out'), async (device) => {
    const out = await openSpeaker(device, 48000);
    await out.close();
  });
  checks.push(microphone, speaker);
  return { checks, microphone: microphone.status === 'ok', speaker: speaker.status === 'ok' };
}

async function deviceCheck<D extends { name: string }>(name: string, flag: string, resolve: () => D, open: (device: D) => Promise<void>): Promise<Check> {
  let device: D;
  try {
    device = resolve();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail(name, message, `hydra-chat devices   (then pass ${flag} <name>; or connect one)`);
  }
  try {
    await open(device);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail(name, `"${device.name}" does not open: ${message}`, `hydra-chat devices   (then try another with ${flag} <name>)`);
  }
  return ok(name, `"${device.name}" opens`);
}
