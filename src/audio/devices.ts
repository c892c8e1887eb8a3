/**
 * Audio devices as PortAudio sees them, listed in a short-lived audio host so that naudiodon's
 * banners and alsa-lib's noise never reach the terminal; and `--input-device`/`--output-device`
 * resolved by id or name in our code (PortAudio silently opens `default` for an unknown id).
 */
import { HydraError } from '../errors.js';
import { cleanField } from '../ui/sanitize.js';
import { displayWidth } from '../ui/width.js';
import { acquireHost } from './host/client.js';
import type { DeviceInfo, DeviceList } from './host/protocol.js';

export type { DeviceInfo, DeviceList } from './host/protocol.js';

const LIST_TIMEOUT_MS = 8000;

/** What to install when the PortAudio addon cannot load, per OS. */
export const INSTALL_HINT =
  'live audio needs the naudiodon addon (PortAudio), built at install time: ' +
  'Debian/Ubuntu: sudo apt-get install build-essential python3 libasound2-dev, then npm rebuild naudiodon · ' +
  'macOS: xcode-select --install, then npm rebuild naudiodon · ' +
  'meanwhile --input <wav> and --output <wav> work without it';

export async function listDevices(signal?: AbortSignal): Promise<DeviceList> {
  const host = acquireHost();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      host.kill();
      reject(new HydraError('audio-device', 'listing audio devices took too long: is the sound server (PulseAudio/PipeWire) hung?'));
    }, LIST_TIMEOUT_MS);
    onAbort = () => reject(new HydraError('interrupted', 'interrupted'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const listed = host.devices();
  listed.catch(() => undefined);
  try {
    return await Promise.race([listed, stop]);
  } catch (error) {
    if (error instanceof HydraError && error.code === 'audio-unavailable' && /cannot load naudiodon/.test(error.message)) {
      throw unavailable(error.message.replace(/^could not list audio devices: /, ''));
    }
    throw error instanceof HydraError ? withHint(error, host.output().at(-1)) : error;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    host.release(true); // the microphone usually opens next: keep the process for it
  }
}

function withHint(error: HydraError, hint: string | undefined): HydraError {
  return hint && error.code === 'audio-unavailable' && !error.hint ? new HydraError(error.code, error.message, { hint }) : error;
}

/** The addon could not load: say what to install. */
export function unavailable(detail: string): HydraError {
  return new HydraError('audio-unavailable', `live audio is unavailable (${detail})`, { hint: INSTALL_HINT });
}

/**
 * Finds a device by id or name: an exact id, an exact name, or a unique case-insensitive substring.
 * `null` spec means the system default. Errors list the devices that exist.
 */
export function resolveDevice(list: DeviceList, spec: string | undefined, direction: 'in' | 'out'): DeviceInfo {
  const usable = list.devices.filter((d) => (direction === 'in' ? d.maxInputChannels : d.maxOutputChannels) > 0);
  const what = direction === 'in' ? 'input' : 'output';
  const available = (): string =>
    usable.length === 0 ? `there are no ${what} devices` : `${what} devices: ${usable.map((d) => `${d.id} "${d.name}"`).join(', ')}`;
  if (spec === undefined) {
    const id = direction === 'in' ? list.defaultInput : list.defaultOutput;
    const found = usable.find((d) => d.id === id) ?? usable[0];
    if (!found) throw new HydraError('audio-device', `no ${what} device found`, { hint: 'run hydra-chat devices; use --input/--output <wav> to run without devices' });
    return found;
  }
  const trimmed = spec.trim();
  if (/^\d+$/.test(trimmed)) {
    const found = usable.find((d) => d.id === Number(trimmed));
    if (found) return found;
    throw new HydraError('audio-device', `no ${what} device with id ${trimmed}`, { hint: available() });
  }
  const exact = usable.filter((d) => d.name === trimmed);
  if (exact.length === 1) return exact[0]!;
  const partial = usable.filter((d) => d.name.toLowerCase().includes(trimmed.toLowerCase()));
  if (partial.length === 1) return partial[0]!;
  if (partial.length > 1) {
    throw new HydraError('audio-device', `"${trimmed}" matches several ${what} devices: ${partial.map((d) => `${d.id} "${d.name}"`).join(', ')}`, {
      hint: 'pass the id instead',
    });
  }
  throw new HydraError('audio-device', `no ${what} device named "${trimmed}"`, { hint: available() });
}

/** The table `hydra-chat devices` prints. */
export function formatDeviceList(list: DeviceList): string[] {
  if (list.devices.length === 0) {
    return ['no audio devices found', '(hydra-chat --input <wav> --output <wav> still works without any)'];
  }
  const rows = list.devices.map((d) => {
    const marks = [d.id === list.defaultInput ? 'default input' : '', d.id === list.defaultOutput ? 'default output' : ''].filter(Boolean).join(', ');
    // Names are whatever the system calls a device (a Bluetooth peer names itself): cleaned, one line.
    return [String(d.id), cleanField(String(d.name), 80), cleanField(String(d.hostAPIName), 40), String(d.maxInputChannels), String(d.maxOutputChannels), `${d.defaultSampleRate} Hz`, marks];
  });
  const header = ['id', 'name', 'host api', 'in', 'out', 'rate', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => displayWidth(r[i]!))));
  const pad = (cell: string, width: number): string => ' '.repeat(Math.max(0, width - displayWidth(cell)));
  const format = (row: string[]): string => row.map((cell, i) => (i === 1 ? cell + pad(cell, widths[i]!) : i < 6 ? pad(cell, widths[i]!) + cell : cell)).join('  ').trimEnd();
  return [format(header), ...rows.map(format)];
}
