/**
 * A developer's recorder of what the echo canceller is given in a live conversation
 * (`HYDRA_CHAT_ECHO_TRACE=<file>`): one JSON line per played chunk (`{k:"p", at, rate, pcm}`) and per
 * mic frame (`{k:"m", at, pcm, s}`: base64 PCM16, performance.now() stamps, the canceller's stats after
 * the frame). Replayed offline, it reproduces the canceller exactly (it is pure); the recorded-reply
 * fixtures of test/fixtures/echo are cut from such traces (test/fixtures/echo/cut-trace.ts).
 */
import { createWriteStream } from 'node:fs';
import type { EchoCanceller } from './canceller.js';

export function traceCanceller(canceller: EchoCanceller, file: string): EchoCanceller {
  const out = createWriteStream(file, { flags: 'a' });
  out.on('error', () => undefined); // a developer's aid: never the conversation's failure
  return {
    process(pcm, at) {
      const cleaned = canceller.process(pcm, at);
      out.write(`${JSON.stringify({ k: 'm', at, pcm: pcm.toString('base64'), s: canceller.stats() })}\n`);
      return cleaned;
    },
    playback(pcm, at, sampleRate) {
      out.write(`${JSON.stringify({ k: 'p', at, rate: sampleRate, pcm: pcm.toString('base64') })}\n`);
      canceller.playback(pcm, at, sampleRate);
    },
    stats: () => canceller.stats(),
    reset: () => canceller.reset(),
  };
}
