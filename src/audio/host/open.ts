/** Opens one stream in a fresh audio host; resolves once PortAudio has started it. */
import { HydraError } from '../../errors.js';
import { unavailable } from '../devices.js';
import { startHost, type AudioHost } from './client.js';
import type { FromHost, StreamSpec } from './protocol.js';

const OPEN_TIMEOUT_MS = 5000;

export type StreamHandlers = {
  onMessage: (message: FromHost) => void;
  onExit: (why: string) => void;
  onWarning?: (line: string) => void;
};

export function openHostStream(spec: StreamSpec, label: string, handlers: StreamHandlers): Promise<AudioHost> {
  return new Promise<AudioHost>((resolvePromise, reject) => {
    let opened = false;
    const fail = (message: string): void => {
      if (opened) return;
      opened = true;
      clearTimeout(timer);
      host.kill();
      reject(message.startsWith('cannot load naudiodon') ? unavailable(message) : new HydraError('audio-device', `cannot open ${label}: ${message}`));
    };
    const host = startHost({
      onMessage: (message) => {
        if (!opened) {
          if (message.ev === 'opened') {
            opened = true;
            clearTimeout(timer);
            resolvePromise(host);
          } else if (message.ev === 'error') fail(message.message);
          return;
        }
        handlers.onMessage(message);
      },
      onExit: (why) => (opened ? handlers.onExit(why) : fail(`${why}${host.output().length ? ` — ${host.output().at(-1)}` : ''}`)),
      ...(handlers.onWarning ? { onWarning: handlers.onWarning } : {}),
    });
    const timer = setTimeout(() => fail('the sound system did not answer within 5 s'), OPEN_TIMEOUT_MS);
    host.send({ op: 'open', spec });
  });
}

/** PortAudio's words for "this device cannot do that rate/format": worth a retry at its own rate. */
export function isFormatProblem(error: unknown): boolean {
  return error instanceof HydraError && /sample ?rate|format|channel/i.test(error.message);
}
