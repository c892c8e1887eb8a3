/**
 * Input for the bench: a scripted "microphone" that sends silence at real time and, on demand, an
 * utterance faster than real time (the simulator's VAD runs on the audio clock, so turns come quickly),
 * and synthetic signals (continuous voice-like tone, clicks).
 */
import { performance } from 'node:perf_hooks';
import type { AudioFrame, AudioSource } from '../../dist/src/audio/types.js';

const RATE = 16000;

export type ScriptedSource = {
  /** For hydra-chat. */
  source: AudioSource;
  /** For the baseline (frames sent as they come). */
  push: { kind: 'push'; pace: false; start(onFrame: (pcm: Buffer, at: number) => void): void; stop(): void };
  /** Emits `pcm` at `speed`× real time; resolves once it has all been emitted. */
  say(pcm: Buffer, speed: number): Promise<void>;
  stop(): void;
};

/** `clock` > 1 runs the silence between utterances faster than real time too (accelerated sessions). */
export function scriptedSource(frameMs = 20, clock = 1): ScriptedSource {
  const frameBytes = (RATE * frameMs * 2) / 1000;
  let emit: ((pcm: Buffer, at: number) => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let speech: Buffer[] = [];
  let speed = 1;
  let sayStart = 0;
  let sayEmitted = 0;
  let sayDone: (() => void) | null = null;
  let silenceStart = 0;
  let silenceEmitted = 0;

  const tick = (): void => {
    if (!emit) return;
    const now = performance.now();
    if (speech.length > 0) {
      const due = Math.floor(((now - sayStart) * speed) / frameMs) + 1 - sayEmitted;
      for (let i = 0; i < due && speech.length > 0; i += 1) {
        sayEmitted += 1;
        emit(speech.shift()!, now);
      }
      if (speech.length === 0) {
        silenceStart = now;
        silenceEmitted = 0;
        sayDone?.();
        sayDone = null;
      }
    } else {
      const due = Math.floor(((now - silenceStart) * clock) / frameMs) - silenceEmitted;
      for (let i = 0; i < due; i += 1) {
        silenceEmitted += 1;
        emit(Buffer.alloc(frameBytes), now);
      }
    }
    timer = setTimeout(tick, speech.length > 0 ? 1 : 4);
  };

  const begin = (onFrame: (pcm: Buffer, at: number) => void): void => {
    emit = onFrame;
    silenceStart = performance.now();
    silenceEmitted = 0;
    tick();
  };
  const stop = (): void => {
    emit = null;
    if (timer) clearTimeout(timer);
    timer = null;
  };

  return {
    source: {
      frameMs,
      async start(onFrame: (frame: AudioFrame) => void) {
        begin((pcm, at) => onFrame({ pcm, at }));
      },
      async close() {
        stop();
      },
    },
    push: { kind: 'push', pace: false, start: begin, stop },
    say(pcm, atSpeed) {
      const frames: Buffer[] = [];
      for (let offset = 0; offset < pcm.length; offset += frameBytes) {
        const frame = Buffer.alloc(frameBytes);
        pcm.copy(frame, 0, offset, Math.min(pcm.length, offset + frameBytes));
        frames.push(frame);
      }
      return new Promise<void>((resolve) => {
        speech = frames;
        speed = atSpeed;
        sayStart = performance.now();
        sayEmitted = 0;
        sayDone = resolve;
      });
    },
    stop,
  };
}

/**
 * A voice-like signal with no pauses: 150 Hz and 7 harmonics at a steady level (about −14 dBFS RMS),
 * so the simulator's energy VAD hears one long utterance and its echo has no gaps (the end of it in the
 * speaker monitor is unambiguous).
 */
export function steadyVoice(ms: number, rate = RATE, f0 = 150): Buffer {
  const samples = Math.round((ms * rate) / 1000);
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i += 1) {
    const t = i / rate;
    let v = 0;
    for (let k = 1; k <= 8; k += 1) v += Math.sin(2 * Math.PI * f0 * k * t + k) / k;
    out.writeInt16LE(Math.round(v * 0.16 * 32767), i * 2);
  }
  return out;
}

export { silence } from '../../dist/src/audio/pcm.js';

/** A short 2 kHz burst at half scale: the click whose round trip through the device we time. */
export function click(ms = 5, rate = 48000): Buffer {
  const samples = Math.round((ms * rate) / 1000);
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i += 1) out.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 2000 * i) / rate) * 16000), i * 2);
  return out;
}

/** A 16-bit mono WAV file's bytes. */
export function wavFile(pcm: Buffer, rate = RATE): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}
