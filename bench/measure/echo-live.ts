/**
 * Issue 15's live figures: the real CLI (`--mock`: the real chat engine and the real simulator, whose
 * VAD hears the mic after the echo stage) on the virtual sound card with the speaker looped into the
 * mic at 0 dB (module-loopback, latency_msec=60, as in the issue). Per mode (cancel; guard = baseline):
 * self-interruptions in N replies, and a user talking over a reply at the echo's own level (the
 * hello fixture peaks near −17 dBFS, the model's voice near −15) heard as a barge-in.
 */
import { performance } from 'node:perf_hooks';
import { isFrame, startCli, type CliProcess, type JsonLine } from '../../test/support/cli-process.js';
import { activeSpans, startVirtualAudio, type VirtualAudio } from '../../test/support/virtual-audio.js';

const HELLO = 'test/fixtures/hello-16k.wav';
const speechStarted = (line: JsonLine): boolean => line.event === 'note' && line.kind === 'speech-started';

/** The speaker has played something and been quiet for `quietMs` since (48 kHz capture). */
const quietAfterReply = (quietMs: number) => (s: Int16Array): boolean => {
  const last = activeSpans(s, { mergeMs: 400 }).at(-1);
  return last !== undefined && (s.length - last[1]) / 48 >= quietMs;
};

async function session(va: VirtualAudio, mode: string): Promise<CliProcess> {
  const run = startCli(['--mock', '--json', '--echo', mode], va.env);
  await run.waitFor(isFrame('session.configured'));
  return run;
}

async function stop(run: CliProcess): Promise<void> {
  run.child.kill('SIGINT');
  await run.exited;
}

/** Speaks `replies` turns, each reply left to play out: speech the simulator heard beyond the user's own turns. */
export async function selfInterruptions(va: VirtualAudio, mode: string, replies: number): Promise<number> {
  const run = await session(va, mode);
  try {
    for (let turn = 0; turn < replies; turn += 1) {
      const capture = va.capture();
      await va.speak(HELLO);
      await run.waitFor(isFrame('response.done'), 20_000, run.lines.length);
      await capture.until(quietAfterReply(800), 30_000).catch(() => undefined);
      await capture.stop();
    }
    return run.lines.filter(speechStarted).length - replies;
  } finally {
    await stop(run);
  }
}

/**
 * Speaks the hello fixture now: the ms from starting the sound to the simulator's speech_started (null
 * when it does not come within `timeoutMs`); then lets the reply play out and stops `capture`.
 */
async function timedTurn(run: CliProcess, va: VirtualAudio, capture: ReturnType<VirtualAudio['capture']>, timeoutMs: number): Promise<number | null> {
  const from = run.lines.length;
  const t = performance.now();
  const spoken = va.speak(HELLO);
  const ms = await run.waitFor(speechStarted, timeoutMs, from).then(() => performance.now() - t, () => null);
  await spoken;
  await capture.until(quietAfterReply(800), 30_000).catch(() => undefined);
  await capture.stop();
  return ms;
}

/**
 * `tries` barge-ins: a turn, then once 1.2 s of its reply has played, the user speaks again. Returns
 * the ms from starting the sound (paplay's own start-up included) to the simulator's speech_started,
 * or null when it did not come within 3 s.
 */
export async function bargeIns(va: VirtualAudio, mode: string, tries: number): Promise<(number | null)[]> {
  const run = await session(va, mode);
  const out: (number | null)[] = [];
  try {
    for (let i = 0; i < tries; i += 1) {
      const capture = va.capture();
      await va.speak(HELLO);
      await run.waitFor(isFrame('response.output_audio.delta'), 20_000, run.lines.length);
      await capture.until((s) => {
        const first = activeSpans(s, { mergeMs: 400 })[0];
        return first !== undefined && (s.length - first[0]) / 48 >= 1200;
      });
      out.push(await timedTurn(run, va, capture, 3000));
    }
    return out;
  } finally {
    await stop(run);
  }
}

/** With no echo and nothing playing: paplay start → speech_started (the start-up and the VAD's 150 ms). */
export async function quietOnsets(va: VirtualAudio, tries: number): Promise<number[]> {
  const run = await session(va, 'cancel');
  const out: number[] = [];
  try {
    for (let i = 0; i < tries; i += 1) {
      const ms = await timedTurn(run, va, va.capture(), 5000);
      if (ms === null) throw new Error('no speech_started within 5 s with nothing playing');
      out.push(ms);
    }
    return out;
  } finally {
    await stop(run);
  }
}

export { startVirtualAudio };
