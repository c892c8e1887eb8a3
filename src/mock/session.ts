/**
 * One simulated Hydra session on one socket: handshake, configure, frame dispatch, idle timeout
 * (hydra-protocol §1.4–1.6, §2, §6, §10).
 */
import { performance } from 'node:perf_hooks';
import type { WebSocket } from '../ws.js';
import type { ClientEvent, ServerEvent } from '../protocol.js';
import { Conversation, type TurnSettings } from './conversation.js';
import * as frames from './frames.js';
import { decodeAppendAudio, readClientFrame } from './intake.js';
import { resolveVoice, type ModelRules } from './profile.js';

/** Resolved per-session settings. */
export type SessionSettings = TurnSettings & {
  readonly model: ModelRules;
  readonly idleTimeoutMs: number;
};

/** Simulator-level callbacks. */
export type SessionHooks = {
  clientFrame(sessionId: string, event: ClientEvent): void;
  serverFrame(sessionId: string, frame: Record<string, unknown>): void;
  closed(sessionId: string, code: number): void;
  /** Fault hook: true when the socket should be dropped after this many deltas of a response. */
  dropAfterDelta(count: number): boolean;
};

/**
 * Bytes the socket may hold unsent before the client counts as not reading: about four whole 30 s
 * replies at 48 kHz. A client that stays past it for SLOW_READER_MS (or lets four times as much pile
 * up) has its transport dropped (a close frame would only queue behind the backlog), so a client that
 * never reads cannot make the simulator grow without bound, while a busy one that falls behind for a
 * moment (a burst of large frames on a loaded machine) catches up.
 */
export const MAX_UNSENT_BYTES = 16 * 1024 * 1024;
const SLOW_READER_MS = 3000;

/** §10.32: the default persona's content is unknown; this stands in for it. */
const DEFAULT_INSTRUCTIONS = 'You are a helpful voice assistant.';

/** A live session. Created after a successful upgrade. */
export class Session {
  readonly id: string;
  readonly conversation: Conversation;
  private readonly socket: WebSocket;
  private readonly settings: SessionSettings;
  private readonly hooks: SessionHooks;
  private idleTimer: NodeJS.Timeout | undefined;
  private configured = false;
  private closed = false;

  constructor(id: string, socket: WebSocket, settings: SessionSettings, hooks: SessionHooks) {
    this.id = id;
    this.socket = socket;
    this.settings = settings;
    this.hooks = hooks;
    this.conversation = new Conversation({
      send: (frame) => this.send(frame),
      outputRate: settings.model.outputSampleRate,
      realtimeFactor: settings.realtimeFactor,
      responseDelayMs: settings.responseDelayMs,
      toolTimeoutMs: settings.toolTimeoutMs,
      transcripts: settings.transcripts,
      rules: settings.rules,
      autoToolCalls: settings.autoToolCalls,
      vad: settings.vad,
      afterAudioDelta: (count) => {
        if (!this.hooks.dropAfterDelta(count)) return false;
        this.drop();
        return true;
      },
    });
    socket.on('message', (data, isBinary) => this.onMessage(isBinary ? null : data.toString()));
    socket.on('close', (code) => this.onClose(code));
    socket.on('error', () => undefined); // a reset socket ends in 'close'; nothing to report
  }

  /** Send the opening frames (§1.4): [warning model_deprecated], session.created. */
  open(): void {
    const { model } = this.settings;
    if (model.migrateTo) this.send(frames.deprecationWarning(model.model, model.migrateTo));
    this.send(frames.sessionCreated(this.id));
  }

  isOpen(): boolean {
    return !this.closed;
  }

  /** Send a typed frame; every outbound frame resets the idle timer (§1.5). */
  send(frame: ServerEvent): void {
    this.sendText(JSON.stringify(frame), frame);
  }

  /** Send arbitrary text (faults). */
  sendText(text: string, frame?: Record<string, unknown>): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN || this.backlogged()) return;
    this.socket.send(text);
    this.hooks.serverFrame(this.id, frame ?? parseForHook(text));
    this.touch();
  }

  /** Drop the transport without a close frame. */
  drop(): void {
    this.conversation.dispose();
    this.socket.terminate();
  }

  /** Close with a code (server_full 1013, idle 1000, shutdown 1001). */
  close(code: number, reason = ''): void {
    this.conversation.dispose();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(code, reason);
  }

  /** True (and the transport dropped) when the client has left too much unread for too long (MAX_UNSENT_BYTES). */
  private backlogged(): boolean {
    const unsent = this.socket.bufferedAmount;
    if (unsent <= MAX_UNSENT_BYTES) {
      this.behindSince = null;
      return false;
    }
    const now = performance.now();
    this.behindSince ??= now;
    if (unsent <= 4 * MAX_UNSENT_BYTES && now - this.behindSince < SLOW_READER_MS) return false;
    this.drop();
    return true;
  }
  private behindSince: number | null = null;

  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.closed) return;
    // §1.5, §10.25: no frame either way for idleTimeoutMs → close 1000, no error frame first
    this.idleTimer = setTimeout(() => this.close(1000, 'idle timeout'), this.settings.idleTimeoutMs);
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.conversation.dispose();
    this.hooks.closed(this.id, code);
  }

  private onMessage(text: string | null): void {
    this.touch();
    if (text === null) {
      this.send(frames.errorFrame('invalid_frame', 'binary frames are not accepted; send JSON text')); // §1.3
      return;
    }
    const intake = readClientFrame(text);
    const type = intake.raw?.type;
    // §2.2, §10.5: audio before session.configured is dropped silently, whatever its shape
    if (!this.configured && type === 'input_audio_buffer.append') return;
    if (this.configured && type === 'session.configure') {
      // §2.2, §6.3, §10.6: a second configure is ignored, whatever it holds: nothing comes back
      if (intake.kind === 'event') this.hooks.clientFrame(this.id, intake.event);
      return;
    }
    if (intake.kind === 'error') {
      this.send(intake.frame);
      return;
    }
    if (intake.rejected) this.send(intake.rejected);
    this.hooks.clientFrame(this.id, intake.event);
    if (!this.configured && intake.event.type !== 'session.configure') {
      this.notConfigured(intake.event);
      return;
    }
    try {
      this.dispatch(intake.event);
    } catch (error) {
      // One client's frame must never end the process (every session of `simulate`): §10.9's internal_error, then 1011.
      this.send(frames.errorFrame('internal_error', `the simulator failed on ${intake.event.type}: ${error instanceof Error ? error.message : String(error)}`));
      this.close(1011, 'internal error');
    }
  }

  /**
   * A frame other than configure before session.configured (the doc is silent; §2 has the client
   * configure first). response.cancel has nothing to cancel: the documented no-op (§4.3). The others
   * get an error and change nothing, so no response or item can precede session.configured.
   */
  private notConfigured(event: ClientEvent): void {
    if (event.type === 'response.cancel') return;
    const message = `${event.type} before session.configured: send session.configure first`;
    this.send(frames.errorFrame('invalid_request_error', message, { param: 'type', ...(event.event_id !== undefined ? { eventId: event.event_id } : {}) }));
  }

  private dispatch(event: ClientEvent): void {
    switch (event.type) {
      case 'session.configure':
        this.configure(event); // only the first reaches here (onMessage)
        return;
      case 'session.update':
        // §2.6: only tools apply; the list is replaced (§10.24); nothing applied → no reply
        if (event.session.tools === undefined) return;
        this.conversation.setTools(event.session.tools);
        this.send({ type: 'session.updated', event_id: frames.newEventId(), session: { tools: event.session.tools } });
        return;
      case 'input_audio_buffer.append':
        this.append(event.audio, event.event_id);
        return;
      case 'conversation.item.create':
        this.conversation.itemCreate(event);
        return;
      case 'response.create':
        this.conversation.responseCreate();
        return;
      case 'response.cancel':
        this.conversation.responseCancel(event.response_id);
        return;
      default:
        event satisfies never;
    }
  }

  private configure(event: Extract<ClientEvent, { type: 'session.configure' }>): void {
    const { model } = this.settings;
    const requested = event.session;
    const voice = resolveVoice(model, requested.voice);
    if (voice.rejected) {
      // §10.3: reject the voice, then configure with the default so the session stays usable
      const message = `voice '${requested.voice}' is not available for model ${model.model}`;
      this.send(frames.errorFrame('invalid_request_error', message, { param: 'session.configure.session.voice', eventId: event.event_id }));
    }
    const tools = requested.tools ?? [];
    const greet = requested.generate_initial_response ?? false;
    this.configured = true;
    this.send({
      type: 'session.configured',
      event_id: frames.newEventId(),
      session: {
        instructions: requested.instructions ?? DEFAULT_INSTRUCTIONS,
        voice: voice.voice,
        tools,
        generate_initial_response: greet,
        // §2.4, §10.4: the audio keys seen on the wire; requested rates are ignored
        input_audio_format: 'pcm16',
        input_audio_sample_rate: 16000,
        output_audio_format: 'pcm16',
        output_audio_sample_rate: model.outputSampleRate,
      },
    });
    this.conversation.configured(tools, greet);
  }

  private append(audio: string, eventId: string | undefined): void {
    const decoded = decodeAppendAudio(audio);
    if ('problem' in decoded) {
      this.send(frames.errorFrame('invalid_audio', decoded.problem, { param: 'audio', eventId })); // §10.10
      return;
    }
    this.conversation.audio(decoded.pcm);
  }
}

function parseForHook(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through: malformed on purpose (fault injection)
  }
  return { type: '(not json)', text };
}
