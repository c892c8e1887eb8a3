/**
 * The scripted microphone: 16 kHz mono frames at real time on a drift-free clock, silence unless
 * told to speak. `speak(pcm)` queues one turn's audio and tells when it started and finished going out.
 */
import { performance } from 'node:perf_hooks';
import type { HydraError } from '../errors.js';
import { startFrameClock } from '../audio/frame-clock.js';
import { bytesForMs } from '../audio/pcm.js';
import type { AudioFrame, AudioSource } from '../audio/types.js';

export type Utterance = {
  /** Monotonic ms when its first frame was emitted. */
  started: Promise<number>;
  /** Monotonic ms when its last frame was emitted. */
  ended: Promise<number>;
};

export type ScriptedSource = AudioSource & {
  speak(pcm: Buffer): Utterance;
  /** True while queued speech is still going out. */
  speaking(): boolean;
};

const RATE = 16000;

type Queued = { pcm: Buffer; offset: number; onStart: (at: number) => void; onEnd: (at: number) => void; begun: boolean };

export function createScriptedSource(options: { frameMs: number }): ScriptedSource {
  const frameBytes = bytesForMs(options.frameMs, RATE);
  const queue: Queued[] = [];
  let stop: (() => void) | null = null;
  let closed = false;

  const nextFrame = (at: number): Buffer => {
    const frame = Buffer.alloc(frameBytes);
    let filled = 0;
    while (filled < frameBytes && queue.length > 0) {
      const head = queue[0]!;
      if (!head.begun) {
        head.begun = true;
        head.onStart(at);
      }
      const n = Math.min(frameBytes - filled, head.pcm.length - head.offset);
      head.pcm.copy(frame, filled, head.offset, head.offset + n);
      head.offset += n;
      filled += n;
      if (head.offset >= head.pcm.length) {
        queue.shift();
        head.onEnd(at);
      }
    }
    return frame;
  };

  return {
    frameMs: options.frameMs,
    speak(pcm) {
      let onStart!: (at: number) => void;
      let onEnd!: (at: number) => void;
      const started = new Promise<number>((resolve) => (onStart = resolve));
      const ended = new Promise<number>((resolve) => (onEnd = resolve));
      if (pcm.length === 0) {
        const now = performance.now();
        onStart(now);
        onEnd(now);
      } else {
        queue.push({ pcm, offset: 0, onStart, onEnd, begun: false });
      }
      return { started, ended };
    },
    speaking: () => queue.length > 0,
    async start(onFrame: (frame: AudioFrame) => void, _onError: (error: HydraError) => void) {
      if (closed) return;
      stop = startFrameClock(options.frameMs, (now) => onFrame({ pcm: nextFrame(now), at: now }));
    },
    async close() {
      closed = true;
      stop?.();
    },
  };
}
