/**
 * Energy VAD on 16 kHz mono PCM16 (hydra-protocol §10.12). Time is the cumulative input-audio clock
 * (§10.34): milliseconds of audio received since `session.configured`, not wall time, so tests may
 * send audio faster than real time.
 */

/** VAD thresholds; every field has a documented default. */
export type VadOptions = { thresholdDbfs: number; startMs: number; stopMs: number; minSpeechMs: number };

export const DEFAULT_VAD: VadOptions = { thresholdDbfs: -45, startMs: 150, stopMs: 600, minSpeechMs: 250 };

/** What the VAD noticed in one push. `pcm` is the utterance (onset to last loud frame). */
export type VadEvent = { type: 'start'; atMs: number } | { type: 'stop'; atMs: number; speechMs: number; pcm: Buffer };

const RATE = 16000;
const FRAME_MS = 10;
const FRAME_BYTES = (RATE / 1000) * FRAME_MS * 2;
const MAX_UTTERANCE_BYTES = RATE * 2 * 30; // keep at most 30 s for the echo

/** RMS level of PCM16 in dBFS (-100 for digital silence). */
export function levelDbfs(pcm: Buffer): number {
  const samples = Math.floor(pcm.length / 2);
  if (samples === 0) return -100;
  let sum = 0;
  for (let i = 0; i < samples; i++) {
    const value = pcm.readInt16LE(i * 2) / 32768;
    sum += value * value;
  }
  const rms = Math.sqrt(sum / samples);
  return rms > 0 ? Math.max(-100, 20 * Math.log10(rms)) : -100;
}

/** Stateful detector; feed it every accepted append in order. */
export class EnergyVad {
  private readonly options: VadOptions;
  private rest: Buffer = Buffer.alloc(0);
  private frames = 0; // 10 ms frames seen so far = the audio clock
  private speaking = false;
  private loudRun: Buffer[] = []; // frames of the current loud run while silent (pre-roll)
  private utterance: Buffer[] = [];
  private utteranceBytes = 0;
  private startFrame = 0;
  private lastLoudFrame = 0; // frame index just after the last loud frame
  private quietFrames = 0;

  constructor(options: Partial<VadOptions> = {}) {
    this.options = { ...DEFAULT_VAD, ...options };
  }

  /** Milliseconds of input audio processed so far. */
  clockMs(): number {
    return this.frames * FRAME_MS;
  }

  /** True between a start and its stop. */
  inSpeech(): boolean {
    return this.speaking;
  }

  push(pcm: Buffer): VadEvent[] {
    const data = this.rest.length ? Buffer.concat([this.rest, pcm]) : pcm;
    const events: VadEvent[] = [];
    let offset = 0;
    for (; offset + FRAME_BYTES <= data.length; offset += FRAME_BYTES) {
      const event = this.frame(data.subarray(offset, offset + FRAME_BYTES));
      if (event) events.push(event);
    }
    this.rest = Buffer.from(data.subarray(offset));
    return events;
  }

  private frame(frame: Buffer): VadEvent | undefined {
    const loud = levelDbfs(frame) >= this.options.thresholdDbfs;
    const index = this.frames++;
    return this.speaking ? this.whileSpeaking(frame, loud, index) : this.whileSilent(frame, loud, index);
  }

  private whileSilent(frame: Buffer, loud: boolean, index: number): VadEvent | undefined {
    if (!loud) {
      this.loudRun = [];
      return undefined;
    }
    this.loudRun.push(frame);
    if (this.loudRun.length * FRAME_MS < this.options.startMs) return undefined;
    this.speaking = true;
    this.startFrame = index + 1 - this.loudRun.length;
    this.lastLoudFrame = index + 1;
    this.quietFrames = 0;
    this.utterance = this.loudRun;
    this.utteranceBytes = this.loudRun.length * FRAME_BYTES;
    this.loudRun = [];
    return { type: 'start', atMs: this.startFrame * FRAME_MS };
  }

  private whileSpeaking(frame: Buffer, loud: boolean, index: number): VadEvent | undefined {
    if (this.utteranceBytes < MAX_UTTERANCE_BYTES) {
      this.utterance.push(frame);
      this.utteranceBytes += frame.length;
    }
    if (loud) {
      this.quietFrames = 0;
      this.lastLoudFrame = index + 1;
      return undefined;
    }
    this.quietFrames++;
    if (this.quietFrames * FRAME_MS < this.options.stopMs) return undefined;
    this.speaking = false;
    const speechFrames = this.lastLoudFrame - this.startFrame;
    const pcm = Buffer.concat(this.utterance).subarray(0, Math.min(this.utteranceBytes, speechFrames * FRAME_BYTES));
    this.utterance = [];
    this.utteranceBytes = 0;
    return { type: 'stop', atMs: this.lastLoudFrame * FRAME_MS, speechMs: speechFrames * FRAME_MS, pcm };
  }
}
