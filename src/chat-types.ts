/** The shapes the shell (chat.ts) shares with its callers: options, events, outcomes, controls. */
import type { MicStage } from './audio/pipeline/stage.js';
import type { AudioSink, AudioSource } from './audio/types.js';
import type { HydraError } from './errors.js';
import type { LoggedFrame } from './frame-log.js';
import type { TurnMetric } from './metrics.js';
import type { SessionConfig, Tool } from './protocol.js';
import type { Note, Phase, State } from './session.js';

/** What the tool runner returns; it never rejects. */
export type ToolRun = { ok: boolean; output: string; durationMs: number; error?: string };
export type ToolRunner = {
  declarations(): Tool[];
  run(name: string, argumentsText: string, options: { signal: AbortSignal; callId: string }): Promise<ToolRun>;
};

export type ConnectionStatus =
  | { status: 'connecting'; attempt: number }
  | { status: 'retrying'; why: 'server-full' | 'rate-limited' | 'dropped'; inMs: number; attempt: number; error: HydraError }
  | { status: 'connected'; sessionId: string }
  | { status: 'phase'; phase: Phase };

/** Everything the UI, --json and run folders hear about, in order. */
export type ChatEvent =
  | { type: 'connection'; detail: ConnectionStatus }
  | { type: 'note'; note: Note }
  | { type: 'metric'; metric: TurnMetric; turn: number }
  | { type: 'frame'; direction: 'in' | 'out'; frame: LoggedFrame; at: number }
  | {
      type: 'played';
      responseId: string;
      playedMs: number;
      droppedMs: number;
      reason: string;
      /** Flush → the last reply sample handed to the device (ms); absent when the sink never said. */
      residueMs?: number;
      /** The device's output latency (ms); null without a device (a file / clock sink). */
      outputLatencyMs?: number | null;
      /** Flush → the speaker is silent: residueMs + outputLatencyMs (null without a device). */
      silentAfterMs?: number | null;
    };

export type ChatOptions = {
  url: string;
  model: string;
  apiKey: string;
  session: SessionConfig;
  /**
   * The microphone, or a file. A source with `rewind` (a file, audio/file-source.ts) starts at
   * `session.configured` and, after a reconnect, speaks the turn that was not answered again.
   */
  source: AudioSource;
  /** Opens the sink once the output rate is known (session.configured). */
  openSink: (sampleRate: number) => Promise<AudioSink>;
  tools?: ToolRunner;
  /** Write the model's audio as received (not flushed) to this WAV. */
  outputPath?: string;
  /** End by itself once the input ended, this much silence was sent, and every reply has played. */
  endAfterInput?: { inputEnded: Promise<void>; trailingSilenceMs: number };
  /**
   * The input's name (e.g. "input.wav"): the run fails when the server heard no speech in it, or
   * when a turn went unanswered for `replyTimeoutMs` (otherwise that is a warning).
   */
  inputName?: string;
  /** A detected turn with no reply for this long: an error with `inputName`, else a warning (default 30 s). */
  replyTimeoutMs?: number;
  /** No `session.configured` this long after `session.configure`: the run ends (exit 9). Default 10 s. */
  configuredTimeoutMs?: number;
  /** Mic frames run through these, in order, before they are sent (mute, echo, meters, recording taps). */
  micStages?: readonly MicStage[];
  /** Frames actually sent on the socket: `capturedAt` from the source, `sentAt` now. */
  onSentFrame?: (pcm: Buffer, capturedAt: number, sentAt: number) => void;
  observe: (event: ChatEvent) => void;
  signal: AbortSignal;
  maxRetries?: number;
  /** Frames reach `observe` as 'frame' events (default true); false when nothing logs them (no describing per frame). */
  logFrames?: boolean;
  /** Log every outbound audio frame too (--json / transcript); otherwise they are counted only. */
  logAudioFrames?: boolean;
  /** Time allowed for the upgrade and `session.created`. */
  handshakeTimeoutMs?: number;
  /** Randomness for the backoff jitter (tests inject their own). */
  random?: () => number;
};

export type ChatOutcome =
  | { reason: 'input-finished' | 'user-quit' | 'server-closed'; sessionId: string; turns: number }
  | { reason: 'error'; error: HydraError; sessionId: string; turns: number };

/** Controls for the terminal UI while a chat runs. */
export type ChatControls = {
  interrupt(): void;
  sink(): AudioSink | null;
  state(): State | null;
  /** Declares a new tool list mid-session (session.update); false when no session is open (a reconnect declares the runner's current list). */
  updateTools(tools: Tool[]): boolean;
};

/** A running conversation: `done` settles (never rejects) when it ends, across reconnects. */
export type Chat = ChatControls & { done: Promise<ChatOutcome> };
