/**
 * A developer's recorder of what the echo canceller is given in a live conversation
 * (`HYDRA_CHAT_ECHO_TRACE=<file>`): one JSON line per played chunk (`{k:"p", at, rate, pcm}`) and per
 * mic frame (`{k:"m", at, pcm, s}`: base64 PCM16, performance.now() stamps, the canceller's stats after
 * the frame). Replayed offline, it reproduces the canceller exactly (it is pure); the recorded-reply
 * fixtures of test/fixtures/echo are cut from such traces (test/fixtures/echo/cut-trace.ts).
 */
import { openSync, writeSync } from 'node:fs';
import { HydraError } from '../../errors.js';
import type { EchoCanceller } from './canceller.js';

export function traceCanceller(canceller: EchoCanceller, file: string): EchoCanceller {
  // Written at once (a stream's buffer would be lost when the CLI is interrupted); a developer's aid,
  // so a failing write is ignored rather than failing the conversation.
  let fd: number;
  try {
    fd = openSync(file, 'a');
  } catch (error) {
    throw new HydraError('usage', `HYDRA_CHAT_ECHO_TRACE: cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const write = (line: object): void => {
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
    } catch {
      // ignored (see above)
    }
  };
  return {
    process(pcm, at) {
      const cleaned = canceller.process(pcm, at);
      write({ k: 'm', at, pcm: pcm.toString('base64'), s: canceller.stats() });
      return cleaned;
    },
    playback(pcm, at, sampleRate) {
      write({ k: 'p', at, rate: sampleRate, pcm: pcm.toString('base64') });
      canceller.playback(pcm, at, sampleRate);
    },
    stats: () => canceller.stats(),
    reset: () => canceller.reset(),
  };
}
