/**
 * Half-duplex echo guard (`--echo-guard`, on by default with a live speaker). While the model's audio
 * plays (and for a short tail after, while the room still rings), microphone frames are replaced by
 * silence, so the model does not hear itself through laptop speakers and interrupt itself. A user who
 * talks over the model still gets through: the guard learns how loud the echo is relative to what
 * plays (the echo return loss: learned at the start of each reply, following its peaks, from the
 * worst case of 0 dB), and when the mic exceeds that expected echo by `marginDb` for `holdMs` in a row, the
 * gate opens until playback ends, and the server's VAD sees the barge-in.
 * Pure: the caller supplies the clock and the playback state.
 */
import { levelDbfs } from './pcm.js';

export type EchoGuardOptions = {
  /** The mic must exceed the playback level by this much to count as the user (dB). */
  marginDb: number;
  /** …for this long in a row before the gate opens (ms). */
  holdMs: number;
  /** Echo tail after playback stops during which the gate stays shut (ms). */
  tailMs: number;
  /** Below this mic level nothing opens the gate, whatever plays (dBFS). */
  floorDb: number;
};

/**
 * The tail and the level window cover the path from "handed to PortAudio" to "heard by the mic":
 * device buffer (70–90 ms measured on the virtual card) plus the room (or a loopback, ~90 ms).
 */
export const DEFAULT_ECHO_GUARD: EchoGuardOptions = { marginDb: 10, holdMs: 100, tailMs: 400, floorDb: -45 };

/** The echo is learned during this long from the start of each reply (ms). */
const CALIBRATION_MS = 700;

/** The echo return loss assumed when the mic stays digitally silent while the model plays (dB). */
const NO_ECHO_DB = -60;

/** Playback levels are remembered this long: the echo of a loud syllable arrives after it was played. */
const LEVEL_WINDOW_MS = 300;

export type GuardDecision = { pcm: Buffer; state: 'open' | 'gated' | 'barge-through' };

export class EchoGuard {
  private readonly options: EchoGuardOptions;
  private lastPlayingAt = Number.NEGATIVE_INFINITY;
  private loudSinceMs = 0;
  private bargedThrough = false;
  private echoing = false;
  private calibrated = true;
  private heardDuringCalibration = false;
  private echoStartedAt = Number.NEGATIVE_INFINITY;
  /** Recent played chunks' levels, oldest first. */
  private levels: { at: number; db: number }[] = [];
  private playbackDb = -100;
  /** Mic level minus playback level while only echo is heard (dB); starts at the worst case. */
  private echoReturnDb = 0;

  constructor(options: Partial<EchoGuardOptions> = {}) {
    this.options = { ...DEFAULT_ECHO_GUARD, ...options };
  }

  /** The learned echo return loss (dB, ≤ 0). */
  get echoReturnLossDb(): number {
    return this.echoReturnDb;
  }

  /** Report what the speaker just played (its level tracks the echo to expect). */
  played(pcm: Buffer, at: number): void {
    this.levels.push({ at, db: levelDbfs(pcm) });
    this.lastPlayingAt = Math.max(this.lastPlayingAt, at);
  }

  /** Decide what to send for this mic frame. `playing`: the speaker has audio queued now. */
  process(pcm: Buffer, frameMs: number, now: number, playing: boolean): GuardDecision {
    if (playing) this.lastPlayingAt = now;
    while (this.levels.length > 0 && this.levels[0]!.at < now - LEVEL_WINDOW_MS) this.levels.shift();
    // The loudest thing played in the window: what the echo arriving now can be as loud as.
    this.playbackDb = this.levels.reduce((max, level) => Math.max(max, level.db), -100);
    const echoing = playing || now - this.lastPlayingAt < this.options.tailMs;
    if (echoing && !this.echoing) {
      this.echoStartedAt = now;
      this.calibrated = false;
      this.heardDuringCalibration = false;
    }
    this.echoing = echoing;
    if (!echoing) {
      this.bargedThrough = false;
      this.loudSinceMs = 0;
      return { pcm, state: 'open' };
    }
    if (this.bargedThrough) return { pcm, state: 'barge-through' };
    const micDb = levelDbfs(pcm);
    const relative = micDb - this.playbackDb;
    const loud = micDb > this.options.floorDb && relative > this.echoReturnDb + this.options.marginDb;
    // Learn only at the start of each reply, when the user has just finished speaking (later, their
    // voice would teach the guard that echo is loud), following the echo's peaks so that quieter
    // stretches do not make the next loud syllable look like the user.
    const calibrating = now - this.echoStartedAt < CALIBRATION_MS;
    if (calibrating && this.playbackDb > -60) this.heardDuringCalibration ||= micDb > -90;
    if (!calibrating && !this.calibrated) {
      this.calibrated = true;
      // A whole calibration window of digital silence while the model played: there is no echo path
      // (headphones, or a virtual device), so anything the mic hears is the user.
      if (!this.heardDuringCalibration) this.echoReturnDb = Math.min(this.echoReturnDb, NO_ECHO_DB);
    }
    if (calibrating && !loud && this.playbackDb > -60 && micDb > -90) {
      // Track the echo's peaks (fast up, slow down): a trough between syllables must not make the
      // next loud echo look like the user.
      const step = relative > this.echoReturnDb ? 0.5 : 0.1;
      this.echoReturnDb = Math.min(0, this.echoReturnDb + step * (relative - this.echoReturnDb));
    }
    // Leaky count: speech has dips between syllables; a dip slows the count down, it does not reset it.
    this.loudSinceMs = loud ? this.loudSinceMs + frameMs : Math.max(0, this.loudSinceMs - frameMs / 2);
    if (this.loudSinceMs >= this.options.holdMs) {
      this.bargedThrough = true;
      return { pcm, state: 'barge-through' };
    }
    return { pcm: Buffer.alloc(pcm.length), state: 'gated' };
  }
}
