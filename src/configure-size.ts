/**
 * The size of `session.configure`, checked before it is sent (issue 13.18). hydra-protocol §2.2: audio
 * output is reported to stop silently above ~18 KB, so warn above 16 KB; refuse above what the server
 * accepts at all (1 MiB, the default frame limit of the Python `websockets` server), rather than be
 * closed with 1009 and retry the same frame again and again.
 */
import { HydraError } from './errors.js';
import { encode, type ClientEvent } from './protocol.js';

export const CONFIGURE_WARN_BYTES = 16 * 1024;
export const CONFIGURE_LIMIT_BYTES = 1024 * 1024;

const kb = (bytes: number): string => `${Math.round(bytes / 1024)} KB`;

export function checkConfigureSize(frame: ClientEvent): { warning?: string; error?: HydraError } {
  const bytes = Buffer.byteLength(encode(frame));
  if (bytes > CONFIGURE_LIMIT_BYTES) {
    return {
      error: new HydraError('usage', `session.configure would be ${kb(bytes)}, more than the ${kb(CONFIGURE_LIMIT_BYTES)} a Hydra server accepts in one frame`, {
        hint: 'shorten the instructions (--prompt / --prompt-file) or the tool declarations',
      }),
    };
  }
  if (bytes > CONFIGURE_WARN_BYTES) {
    return { warning: `session.configure is ${kb(bytes)} (instructions + tools); above ~16 KB Hydra is reported to stop sending audio (protocol §2.2) — consider shorter instructions` };
  }
  return {};
}
