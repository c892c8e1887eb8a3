/**
 * The shell: wires connection + audio source + audio sink + tools + observers and runs the reducer's
 * effects. Reconnecting is reconnect.ts's; a file input's turns across reconnects are input-replay.ts's.
 */
import { performance } from 'node:perf_hooks';
import { runStages } from './audio/pipeline/stage.js';
import type { AudioFrame, AudioSink } from './audio/types.js';
import { anomalyFilter } from './anomaly-filter.js';
import type { Chat, ChatControls, ChatOptions, ChatOutcome } from './chat-types.js';
import { DEFAULTS } from './defaults.js';
import { connect, type Connection, type Inbound } from './connection.js';
import { HydraError, toHydraError } from './errors.js';
import { elideAudio, lazyInbound, type LoggedFrame } from './frame-log.js';
import { inboundAction } from './inbound.js';
import { FileInput, isReplayable, replayLine } from './input-replay.js';
import { Playback } from './playback.js';
import { sessionUpdate, type ClientEvent, type Tool } from './protocol.js';
import { closeVerdict, connectVerdict, reconnectLoop, sleep, type SessionEnd } from './reconnect.js';
import { ReplyWatch } from './reply-watch.js';
import { configuredTimeoutError, inputVerdict, replyKey, turnNeverEnded, type Replies } from './watchdogs.js';
import { configureFrame, DEFAULT_OUTPUT_RATE, initialState, isQuiet, reduce, type Effect, type Input, type Note, type State } from './session.js';
import { callTool } from './tool-call.js';
import { isVoiceRejection, voiceFallback, type VoiceFallback } from './voice-fallback.js';
import { checkConfigureSize } from './configure-size.js';

export type * from './chat-types.js';

export function startChat(options: ChatOptions): Chat {
  const shell = new ChatShell(options);
  return { ...shell.controls(), done: shell.run() };
}

/** Runs one conversation until it ends; never rejects. */
export function runChat(options: ChatOptions): Promise<ChatOutcome> {
  return startChat(options).done;
}

class ChatShell {
  private readonly options: ChatOptions;
  private connection: Connection | null = null;
  private state: State | null = null;
  private readonly playback: Playback;
  private readonly file: FileInput | null;
  private toolAbort = new AbortController();
  private timers = new Set<NodeJS.Timeout>();
  private readonly replyWatch: ReplyWatch;
  private finish: ((outcome: ChatOutcome) => void) | null = null;
  private sessionId = '';
  /** Turns answered by sessions that have ended (the current one's are in State). */
  private earlierTurns = 0;
  /** Turns the server detected across sessions (speech_stopped, less those it discarded as noise). */
  private heardTurns = 0;
  private silenceAfterInputMs = -1;
  private readonly voice: VoiceFallback;
  private malformedConfigured: string | null = null;
  /** Tools changed while session.configured was awaited: declared as soon as it comes. */
  private toolsUpdate: Tool[] | null = null;
  private readonly showNote = anomalyFilter();
  private readonly stopped = new AbortController();
  private ending = false;
  private pendingEnd: ChatOutcome | null = null;
  private readonly startedAt = performance.now();

  constructor(options: ChatOptions) {
    this.options = options;
    this.file = isReplayable(options.source) ? new FileInput(options.source) : null;
    this.voice = voiceFallback(options.session, options.model);
    this.replyWatch = new ReplyWatch({
      ms: options.replyTimeoutMs ?? DEFAULTS.replyTimeoutMs,
      inputName: options.inputName,
      after: (ms, run) => this.after(ms, run),
      cancel: (timer) => void (clearTimeout(timer), this.timers.delete(timer)),
      fail: (error) => this.fail(error),
      warn: (note) => this.note(note),
    });
    this.playback = new Playback(options.outputPath, (error) => this.fail(toHydraError(error, 'output-file')));
  }

  controls(): ChatControls {
    return {
      interrupt: () => this.dispatch({ type: 'interrupt', at: performance.now() }),
      sink: () => this.playback.sink,
      state: () => this.state,
      updateTools: (tools) => {
        if (this.connection === null || this.state === null || this.ending) return false;
        // §2.2: nothing but the configure goes before session.configured; the update follows it.
        if (this.state.configured) this.sendFrame(sessionUpdate(tools));
        else this.toolsUpdate = tools;
        return true;
      },
    };
  }

  private turns(): number {
    return this.earlierTurns + (this.state?.turns ?? 0);
  }

  private lastResponseStatus: string | null = null;
  private replies(): Replies {
    return { withAudio: this.turns() > 0, lastStatus: this.lastResponseStatus };
  }

  private outcome(reason: 'input-finished' | 'user-quit' | 'server-closed'): ChatOutcome {
    return { reason, sessionId: this.sessionId, turns: this.turns() };
  }

  private failure(error: HydraError): ChatOutcome {
    return { reason: 'error', error, sessionId: this.sessionId, turns: this.turns() };
  }

  private fail(error: HydraError): void {
    this.end(this.failure(error));
  }

  async run(): Promise<ChatOutcome> {
    const { options } = this;
    const size = checkConfigureSize(configureFrame(this.freshState()));
    if (size.error) return { reason: 'error', error: size.error, sessionId: '', turns: 0 };
    if (size.warning) this.note({ kind: 'warning', code: 'configure-size', message: size.warning });
    void options.endAfterInput?.inputEnded.then(() => {
      if (this.silenceAfterInputMs < 0) this.silenceAfterInputMs = 0;
    });
    // A live microphone runs from the start (meters, --record); a file waits for session.configured.
    if (this.file === null) {
      try {
        await this.startSource();
      } catch (error) {
        return { reason: 'error', error: toHydraError(error, 'audio-device'), sessionId: '', turns: 0 };
      }
    }
    const outcome = await reconnectLoop({
      maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
      random: options.random,
      runOnce: (attempt) => this.attempt(attempt),
      settled: () => this.pendingEnd ?? (options.signal.aborted ? this.outcome('user-quit') : null),
      onRetry: (detail) => options.observe({ type: 'connection', detail: { status: 'retrying', ...detail } }),
      wait: (ms) => sleep(ms, AbortSignal.any([options.signal, this.stopped.signal])),
      failed: (error) => this.failure(error),
    });
    await this.teardown();
    return outcome;
  }

  private startSource(): Promise<void> {
    return this.options.source.start((frame) => this.onMicFrame(frame), (error) => this.fail(error));
  }

  private freshState(): State {
    const { tools } = this.options;
    return initialState({ ...this.voice.config(), ...(tools ? { tools: tools.declarations() } : {}) });
  }

  private async attempt(attempt: number): Promise<SessionEnd> {
    const { options } = this;
    options.observe({ type: 'connection', detail: { status: 'connecting', attempt } });
    let connection: Connection;
    try {
      connection = await connect({
        url: options.url, model: options.model, apiKey: options.apiKey,
        signal: AbortSignal.any([options.signal, this.stopped.signal]),
        ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
      });
    } catch (error) {
      const hydraError = toHydraError(error, 'connect-failed');
      if (options.signal.aborted || hydraError.code === 'interrupted') return { kind: 'final', outcome: this.pendingEnd ?? this.outcome('user-quit') };
      const verdict = connectVerdict(hydraError, this.sessionId !== '');
      return verdict.kind === 'retry' ? verdict : { kind: 'final', outcome: this.failure(hydraError) };
    }
    const end = await this.runSession(connection);
    this.file?.sessionEnded();
    this.earlierTurns += this.state?.turns ?? 0;
    this.state = this.state === null ? null : { ...this.state, turns: 0 };
    return end;
  }

  /** One connection's life: resolves with how it ended. */
  private runSession(connection: Connection): Promise<SessionEnd> {
    const { options } = this;
    this.connection = connection;
    this.sessionId = connection.sessionId;
    const connectedAt = performance.now();
    this.toolAbort = new AbortController();
    this.state = this.freshState();
    this.malformedConfigured = null;
    this.toolsUpdate = null;
    options.observe({ type: 'connection', detail: { status: 'connected', sessionId: connection.sessionId } });
    return new Promise((resolve) => {
      let settled = false;
      const settle = (value: SessionEnd): void => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener('abort', onAbort);
        this.finish = null;
        this.clearTimers();
        this.toolAbort.abort();
        this.connection = null;
        resolve(value);
      };
      this.finish = (outcome) => void connection.close(1000).then(() => settle({ kind: 'final', outcome }));
      let restarting = false;
      this.again = () => {
        restarting = true;
        void connection.close(1000).then(() => settle({ kind: 'again' }));
      };
      const onAbort = (): void => this.end(this.outcome('user-quit'));
      options.signal.addEventListener('abort', onAbort, { once: true });
      if (this.pendingEnd || options.signal.aborted) {
        this.end(this.pendingEnd ?? this.outcome('user-quit'));
        return;
      }
      connection.onClose((info) => {
        if (this.pendingEnd) return settle({ kind: 'final', outcome: this.pendingEnd });
        if (restarting) return settle({ kind: 'again' });
        const verdict = closeVerdict(info, {
          configured: this.state?.configured ?? false,
          answered: (this.state?.turns ?? 0) > 0,
          lastedMs: performance.now() - connectedAt,
        });
        // Close 1000: with an input file, a run that heard nothing or left a turn unanswered still fails (issue 12.2).
        const unheard = verdict.kind === 'server-closed' ? inputVerdict(this.options.inputName, this.heardTurns > 0, replyKey(this.state) !== null, this.replies()) : null;
        if (verdict.kind === 'server-closed') return settle({ kind: 'final', outcome: unheard ? this.failure(unheard) : this.outcome('server-closed') });
        if (verdict.kind === 'fatal') return settle({ kind: 'final', outcome: this.failure(verdict.error) });
        settle(verdict);
      });
      this.sendFrame(configureFrame(this.state!));
      this.after(options.configuredTimeoutMs ?? DEFAULTS.configuredTimeoutMs, () => this.configuredTimedOut());
      connection.onFrame((frame) => this.onInbound(frame));
    });
  }
  /** Closes the current session and connects again at once (not counted as a retry). */
  private again: (() => void) | null = null;

  private configuredTimedOut(): void {
    // A configured session, or one whose session.configured waits for the speaker to open, is fine.
    if (!this.state?.configured && this.playback.opened()) this.fail(configuredTimeoutError(this.options.configuredTimeoutMs ?? DEFAULTS.configuredTimeoutMs, this.malformedConfigured));
  }

  /** Ends the run with this outcome: closes the socket with 1000 if one is open. First call wins. */
  private end(outcome: ChatOutcome): void {
    if (this.ending) return;
    this.ending = true;
    this.pendingEnd = outcome;
    this.stopped.abort();
    this.finish?.(outcome);
  }

  private onInbound(frame: Inbound): void {
    // Only when something logs frames (--json, --verbose), and described only when read.
    if (this.options.logFrames !== false) this.options.observe(lazyInbound(frame.decoded, frame.at - this.startedAt));
    this.replyWatch.inbound(frame.at);
    const action = inboundAction(frame.decoded);
    if (action.kind === 'note') {
      if (action.configuredProblem !== undefined) this.malformedConfigured = action.configuredProblem;
      this.note(action.note);
      return;
    }
    const input: Input = { type: 'server', event: action.event, at: frame.at };
    // A second session.configured in one session changes nothing (the reducer ignores it), nor the rate.
    if (action.event.type !== 'session.configured' || this.state?.configured) return this.dispatch(input);
    const rate = action.event.session?.output_audio_sample_rate ?? DEFAULT_OUTPUT_RATE;
    const openSink = async (): Promise<AudioSink> => {
      const sink = await this.options.openSink(rate);
      sink.onIdle(() => this.checkInputFinished());
      sink.onError = (error) => this.fail(error);
      return sink;
    };
    this.playback.open(rate, openSink, this.dispatchLater(input), (error) => this.fail(toHydraError(error, 'audio-device')));
  }

  /** For an input that waits for the speaker to open: dropped if its session has ended by then (never run in the next). */
  private dispatchLater(input: Input): () => void {
    const connection = this.connection;
    return () => void (this.connection === connection && this.dispatch(input));
  }

  private dispatch(input: Input): void {
    if (this.state === null) return;
    if (!this.playback.opened()) return this.playback.whenReady(this.dispatchLater(input));
    const { state, effects } = reduce(this.state, input);
    const before = this.state.phase;
    this.state = state;
    for (const effect of effects) this.perform(effect);
    if (state.phase !== before) this.options.observe({ type: 'connection', detail: { status: 'phase', phase: state.phase } });
    this.replyWatch.update(this.state);
    this.checkInputFinished();
  }

  private perform(effect: Effect): void {
    switch (effect.type) {
      case 'send':
        return this.sendFrame(effect.event);
      case 'play-audio':
        return this.playback.play(effect.pcm, this.state?.responseId ?? '');
      case 'flush-audio': {
        return this.playback.flush(effect.reason, (played) => this.options.observe(played));
      }
      case 'run-tool':
        return void this.runTool(effect.callId, effect.name, effect.argumentsText);
      case 'start-debounce':
        return void this.after(effect.ms, () => this.dispatch({ type: 'debounce-elapsed', token: effect.token, at: performance.now() }));
      case 'metric':
        this.file?.answered();
        return this.options.observe({ type: 'metric', metric: effect.metric, turn: this.turns() });
      case 'show':
        return this.note(effect.note);
    }
  }

  /** A timer cleared when the session ends. */
  private after(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private async runTool(callId: string, name: string, argumentsText: string): Promise<void> {
    const signal = this.toolAbort.signal;
    const result = await callTool(this.options.tools, name, argumentsText, { signal, callId });
    if (signal.aborted) return; // the connection this call belonged to is gone (§ reliability: discard)
    this.dispatch({ type: 'tool-result', callId, output: result.output, ok: result.ok, durationMs: result.durationMs, at: performance.now() });
  }

  private onMicFrame(frame: AudioFrame): void {
    const { pcm } = this.options.micStages ? runStages(this.options.micStages, frame) : frame;
    const connection = this.connection;
    // §2.2: never send audio before session.configured; frames during a reconnect are not sent.
    if (!connection || !this.state?.configured || !connection.isOpen()) return;
    this.file?.frame();
    if (this.silenceAfterInputMs >= 0 && this.file === null) this.silenceAfterInputMs += this.options.source.frameMs;
    connection.sendAudio(pcm);
    if (this.options.logAudioFrames) this.logSent({ type: 'input_audio_buffer.append', audio: `<${pcm.length} bytes>` });
    this.options.onSentFrame?.(pcm, frame.at, performance.now());
    this.checkInputFinished();
  }

  private sendFrame(event: ClientEvent): void {
    const connection = this.connection;
    if (!connection) return;
    connection.send(event);
    this.logSent(elideAudio(event));
  }

  private logSent(frame: LoggedFrame): void {
    if (this.options.logFrames !== false) this.options.observe({ type: 'frame', direction: 'out', frame, at: performance.now() - this.startedAt });
  }

  private note(raw: Note): void {
    if (isVoiceRejection(raw)) {
      // Said once, in plain words, when the session is configured (or reconnected without the voice).
      this.voice.reject();
      this.after(DEFAULTS.voiceGraceMs, () => {
        if (!this.state?.configured) this.again?.();
      });
      return;
    }
    if (raw.kind === 'speech-stopped' || raw.kind === 'noise-discarded') this.heardTurns += raw.kind === 'speech-stopped' ? 1 : -1;
    if (raw.kind === 'speech-started') this.file?.speech();
    if (raw.kind === 'response-done') this.lastResponseStatus = raw.status;
    const note = this.showNote(raw);
    if (note) this.options.observe({ type: 'note', note });
    if (raw.kind === 'configured') this.onConfigured(raw.voice);
  }

  private onConfigured(voice: string | undefined): void {
    if (this.toolsUpdate) this.sendFrame(sessionUpdate(this.toolsUpdate));
    this.toolsUpdate = null;
    const line = this.voice.configured(voice);
    if (line !== null) this.options.observe({ type: 'note', note: { kind: 'warning', code: 'voice-replaced', message: line } });
    const back = this.file?.configured(() => void this.startSource().catch((error) => this.fail(toHydraError(error, 'input-file'))));
    if (back) this.options.observe({ type: 'note', note: { kind: 'warning', code: 'input-replayed', message: replayLine(back.to, this.options.inputName) } });
  }

  private checkInputFinished(): void {
    const end = this.options.endAfterInput;
    if (!end) return;
    const silentMs = this.file ? this.file.silenceAfterEnd() : this.silenceAfterInputMs;
    if (silentMs < end.trailingSilenceMs) return;
    const replyMs = this.options.replyTimeoutMs ?? DEFAULTS.replyTimeoutMs;
    if (this.state?.phase === 'user-speaking' && silentMs >= end.trailingSilenceMs + replyMs) return this.fail(turnNeverEnded(replyMs, this.options.inputName ?? 'the input'));
    if (!this.state || !isQuiet(this.state)) return;
    if (this.playback.sink && !this.playback.sink.idle()) return;
    const error = inputVerdict(this.options.inputName, this.heardTurns > 0, false, this.replies());
    this.end(error ? this.failure(error) : this.outcome('input-finished'));
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.replyWatch.reset();
  }

  private async teardown(): Promise<void> {
    this.clearTimers();
    await Promise.allSettled([this.options.source.close(), this.playback.close()]);
  }
}
