/** Opens one stream in the shared audio host; resolves once PortAudio has started it. */
import { HydraError } from '../../errors.js';
import { unavailable } from '../devices.js';
import { acquireHost, type AudioHost, type StreamHandlers } from './client.js';
import type { StreamSpec } from './protocol.js';

const OPEN_TIMEOUT_MS = 5000;

export type HostStream = {
  readonly id: number;
  readonly host: AudioHost;
  /** Stops the stream (≤ ~1 s, by killing the host if PortAudio hangs) and lets the host go. */
  close(): Promise<void>;
};

export async function openHostStream(spec: StreamSpec, label: string, handlers: StreamHandlers): Promise<HostStream> {
  const host = acquireHost();
  const { id, opened } = host.open(spec, handlers);
  opened.catch(() => undefined); // a late failure after the timeout is already reported
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // A sound server that does not answer an open is hung: nothing else in this host will work either.
      host.kill();
      reject(new Error('the sound system did not answer within 5 s'));
    }, OPEN_TIMEOUT_MS);
  });
  try {
    await Promise.race([opened, timeout]);
  } catch (error) {
    host.release(true); // a retry at the device's own rate may follow
    const message = error instanceof Error ? error.message : String(error);
    throw message.startsWith('cannot load naudiodon') ? unavailable(message) : new HydraError('audio-device', `cannot open ${label}: ${message}`);
  } finally {
    clearTimeout(timer);
  }
  let closing: Promise<void> | null = null;
  return {
    id,
    host,
    close() {
      closing ??= host.closeStream(id).finally(() => host.release());
      return closing;
    },
  };
}

/** PortAudio's words for "this device cannot do that rate/format": worth a retry at its own rate. */
export function isFormatProblem(error: unknown): boolean {
  return error instanceof HydraError && /sample ?rate|format|channel/i.test(error.message);
}
