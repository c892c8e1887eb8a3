/**
 * The echo self-test behind `hydra-chat echo-test`: plays 2.2 s of white noise (−20 dBFS, the same
 * fixed sequence every time) on the speaker while the microphone listens, runs the echo canceller on
 * the capture live, exactly as a conversation would, and measures the echo path: its delay (handed
 * to PortAudio → heard by the mic), its coupling (echo level relative to what was played) and the
 * echo return loss enhancement the canceller reached by the end. Noise, not speech or the simulator's
 * voice: its correlation has one sharp peak.
 */
import { HydraError } from '../../errors.js';
import type { AudioFrame, AudioSink, AudioSource } from '../types.js';
import { createEchoCanceller } from './canceller.js';

export type EchoAdvice = 'off' | 'cancel' | 'headphones';
export type EchoTestResult = {
  /** Handed to the speaker → captured by the mic (ms); null when no echo was found. */
  delayMs: number | null;
  /** Echo level relative to what was played (dB); without an echo, the mic's level relative to it (an upper bound). */
  couplingDb: number;
  /** Echo removed by the canceller over the last second of the probe (dB); null without an echo. */
  erleDb: number | null;
  recommendation: string;
  echo: EchoAdvice;
  probeMs: number;
};

const RATE = 16000;
export const PROBE_MS = 2200;
const LEAD_MS = 200;
/** The longest echo path we look for (ms). */
const MAX_DELAY_MS = 400;
const PROBE_RMS = 32768 * 10 ** (-20 / 20);
/** Below this coupling (dB) there is no echo worth cancelling. */
const NO_ECHO_DB = -40;
/** Above this coupling, or below this ERLE, the canceller cannot keep the model from hearing itself. */
const TOO_LOUD_DB = 6;
const MIN_ERLE_DB = 20;
const TIMEOUT_MS = PROBE_MS + LEAD_MS + MAX_DELAY_MS + 2000;

export const RECOMMENDATIONS: Record<EchoAdvice, string> = {
  off: 'headphones or no echo: --echo off',
  cancel: 'speakers: --echo cancel',
  headphones: 'echo too strong: use headphones',
};

/** The probe: white noise from a fixed seed, with 10 ms fades. */
export function probe(ms = PROBE_MS): Buffer {
  const count = Math.round((ms * RATE) / 1000);
  const out = Buffer.alloc(count * 2);
  let seed = 0x2545f491;
  const uniform = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const fade = RATE / 100;
  for (let i = 0; i < count; i += 1) {
    // Sum of 4 uniforms: close enough to Gaussian, variance 4/12.
    const g = (uniform() + uniform() + uniform() + uniform() - 2) * Math.sqrt(3);
    const ramp = Math.min(1, i / fade, (count - 1 - i) / fade);
    out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(g * PROBE_RMS * ramp))), i * 2);
  }
  return out;
}

export function advise(delayMs: number | null, couplingDb: number, erleDb: number | null): EchoAdvice {
  if (delayMs === null || couplingDb < NO_ECHO_DB) return 'off';
  if (couplingDb > TOO_LOUD_DB || (erleDb !== null && erleDb < MIN_ERLE_DB)) return 'headphones';
  return 'cancel';
}

type Captured = { at: number; mic: Buffer; out: Buffer };

/** Runs the test on an opened microphone (20 ms frames) and speaker (16 kHz); closes neither. */
export async function measureEcho(mic: AudioSource, speaker: AudioSink, signal?: AbortSignal): Promise<EchoTestResult> {
  const canceller = createEchoCanceller({ frameMs: mic.frameMs, maxDelayMs: MAX_DELAY_MS });
  const played: { at: number; samples: number }[] = [];
  const frames: Captured[] = [];
  const sound = probe();
  speaker.onPlayed = (pcm, at, rate) => {
    canceller.playback(pcm, at, rate ?? speaker.sampleRate);
    played.push({ at, samples: Math.round(((pcm.length >> 1) * RATE) / (rate ?? speaker.sampleRate)) });
  };
  let idleAt: number | null = null;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new HydraError('audio-device', 'the echo test got no audio back in time: is the speaker or the microphone stuck?')), TIMEOUT_MS);
    const onAbort = (): void => finish(new HydraError('interrupted', 'interrupted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    let done = false;
    function finish(error?: HydraError): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    }
    let started: number | null = null;
    const onFrame = (frame: AudioFrame): void => {
      frames.push({ at: frame.at, mic: frame.pcm, out: canceller.process(frame.pcm, frame.at) });
      started ??= frame.at;
      if (played.length === 0 && speaker.idle() && frame.at - started >= LEAD_MS) {
        speaker.onIdle(() => (idleAt = performance.now()));
        speaker.write(sound);
      }
      if (idleAt !== null && frame.at - idleAt >= MAX_DELAY_MS) finish();
    };
    mic.start(onFrame, (error) => finish(error)).catch((error: unknown) => finish(error instanceof HydraError ? error : new HydraError('audio-device', String(error))));
  });
  return analyse(frames, played, canceller.stats().delayMs, mic.frameMs);
}

function meanSquare(pcm: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < pcm.length; i += 2) sum += pcm.readInt16LE(i) ** 2;
  return sum / Math.max(1, pcm.length >> 1);
}

function analyse(frames: Captured[], played: { at: number; samples: number }[], delayMs: number | null, frameMs: number): EchoTestResult {
  const probeMs = PROBE_MS;
  const probePower = PROBE_RMS ** 2;
  const first = played[0]?.at ?? 0;
  const end = first + probeMs;
  // Frames whose 20 ms lie within [from, to] (mic time).
  const within = (from: number, to: number): Captured[] => frames.filter((f) => f.at - frameMs >= from && f.at <= to);
  const level = (list: Captured[], key: 'mic' | 'out'): number => list.reduce((sum, f) => sum + meanSquare(f[key]), 0) / Math.max(1, list.length);
  const db = (ratio: number): number => Math.max(-100, Math.round(10 * Math.log10(ratio) * 10) / 10);
  if (delayMs === null) {
    const heard = within(first + 100, end + MAX_DELAY_MS);
    const couplingDb = db(level(heard, 'mic') / probePower);
    const echo = advise(null, couplingDb, null);
    return { delayMs: null, couplingDb, erleDb: null, recommendation: RECOMMENDATIONS[echo], echo, probeMs };
  }
  const echoWindow = within(first + delayMs + 300, end + delayMs - 100);
  const couplingDb = db(level(echoWindow, 'mic') / probePower);
  const last = within(end + delayMs - 1000, end + delayMs - 100);
  const erleDb = last.length === 0 ? null : db(level(last, 'mic') / Math.max(level(last, 'out'), 1e-3));
  const echo = advise(delayMs, couplingDb, erleDb);
  return { delayMs, couplingDb, erleDb, recommendation: RECOMMENDATIONS[echo], echo, probeMs };
}
