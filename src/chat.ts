/**
 * The shell: wires connection + audio source + audio sink + tools + observers, runs the reducer's
 * effects, and reconnects per hydra-protocol §1.7. The only module that knows the others together.
 */
import { performance } from 'node:perf_hooks';
import type { AudioFrame, AudioSink, AudioSource } from './audio/types.js';
import { WavWriter } from './audio/wav.js';
import { decideRetry } from './backoff.js';
import { connect, MAX_FRAME_BYTES, type CloseInfo, type Connection, type Inbound } from './connection.js';
import { HydraError, toHydraError } from './errors.js';
import { describeInbound, elideAudio, type LoggedFrame } from './frame-log.js';
import type { TurnMetric } from './metrics.js';
import { appendAudio, sessionUpdate, type ClientEvent, type SessionConfig, type Tool } from './protocol.js';
import { configureFrame, initialState, isQuiet, reduce, type Effect, type Input, type Note, type Phase, type State } from './session.js';

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
  | { type: 'played'; responseId: string; playedMs: number; droppedMs: number; reason: string };

export type ChatOptions = {
  url: string;
  model: string;
  apiKey: string;
  session: SessionConfig;
  source: AudioSource;
  /** Opens the sink once the output rate is known (session.configured). */
  openSink: (sampleRate: number) => Promise<AudioSink>;
  tools?: ToolRunner;
  /** Write the model's audio as received (not flushed) to this WAV. */
  outputPath?: string;
  /** End by itself once `inputEnded` resolved, this much silence was sent, and every reply has played. */
  endAfterInput?: { inputEnded: Promise<void>; trailingSilenceMs: number };
  /** Mic frames pass through this before they are sent (mute, echo guard). */
  processFrame?: (frame: AudioFrame, sink: AudioSink | null) => Buffer;
  /** Frames as they were sent (after processFrame), e.g. for recording: `capturedAt` from the source, `sentAt` now. */
  onSentFrame?: (pcm: Buffer, capturedAt: number, sentAt: number) => void;
  observe: (event: ChatEvent) => void;
  signal: AbortSignal;
  maxRetries?: number;
  /** Log every outbound audio frame too (--json / transcript); otherwise they are counted only. */
  logAudioFrames?: boolean;
  /** Milliseconds to wait after the tool-call debounce (§5.4); tests may shorten it. */
  handshakeTimeoutMs?: number;
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

/** A session that lasted this long counts as having run (§1.7 backoff reset) even without a turn. */
const STABLE_SESSION_MS = 10_000;

/** Distinct kinds of anomaly shown per run; a hostile server cannot flood the screen with new kinds. */
const MAX_ANOMALY_KINDS = 64;

/** A server-chosen string, cut for a one-line message. */
function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

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
  private sink: AudioSink | null = null;
  private output: WavWriter | null = null;
  private toolAbort = new AbortController();
  private timers = new Set<NodeJS.Timeout>();
  private finish: ((outcome: ChatOutcome) => void) | null = null;
  private sessionId = '';
  private turns = 0;
  private connectedAt = 0;
  private turnsAtConnect = 0;
  private silenceAfterInputMs = -1;
  private readonly startedAt = performance.now();

  constructor(options: ChatOptions) {
    this.options = options;
  }

  /** Controls for the UI; valid for the whole run. */
  controls(): ChatControls {
    return {
      interrupt: () => this.dispatch({ type: 'interrupt', at: performance.now() }),
      sink: () => this.sink,
      state: () => this.state,
      updateTools: (tools) => {
        if (this.connection === null || this.state === null || this.ending) return false;
        this.sendFrame(sessionUpdate(tools));
        return true;
      },
    };
  }

  async run(): Promise<ChatOutcome> {
    const { options } = this;
    void options.endAfterInput?.inputEnded.then(() => {
      this.silenceAfterInputMs = 0;
    });
    try {
      await options.source.start(
        (frame) => this.onMicFrame(frame),
        (error) => this.end({ reason: 'error', error, sessionId: this.sessionId, turns: this.turns }),
      );
    } catch (error) {
      return { reason: 'error', error: toHydraError(error, 'audio-device'), sessionId: '', turns: 0 };
    }
    const outcome = await this.connectLoop();
    await this.teardown(outcome);
    return outcome;
  }

  private async connectLoop(): Promise<ChatOutcome> {
    const { options } = this;
    const maxRetries = options.maxRetries ?? 8;
    let attempt = 0;
    for (;;) {
      if (this.pendingEnd) return this.pendingEnd;
      if (options.signal.aborted) return this.quitOutcome();
      options.observe({ type: 'connection', detail: { status: 'connecting', attempt } });
      let result: ChatOutcome | { reason: 'dropped'; error: HydraError; ranOk: boolean };
      try {
        const connection = await connect({
          url: options.url,
          model: options.model,
          apiKey: options.apiKey,
          signal: options.signal,
          ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
        });
        result = await this.runSession(connection);
      } catch (error) {
        const hydraError = toHydraError(error, 'connect-failed');
        if (options.signal.aborted || hydraError.code === 'interrupted') return this.quitOutcome();
        result = { reason: 'dropped', error: hydraError, ranOk: false };
      }
      if (result.reason !== 'dropped') return result;
      if (result.ranOk) attempt = 0; // §1.7: reset backoff after a session that ran
      // A refused first connection is a configuration problem, not a blip: fail fast.
      const neverConnected = this.sessionId === '' && result.error.code === 'connect-failed';
      const decision = neverConnected ? ({ retry: false } as const) : decideRetry(result.error, attempt, maxRetries);
      if (!decision.retry) return { reason: 'error', error: result.error, sessionId: this.sessionId, turns: this.turns };
      options.observe({
        type: 'connection',
        detail: { status: 'retrying', why: decision.why, inMs: decision.delayMs, attempt: attempt + 1, error: result.error },
      });
      const aborted = await this.wait(decision.delayMs);
      if (this.pendingEnd) return this.pendingEnd;
      if (aborted) return this.quitOutcome();
      attempt += 1;
    }
  }

  private quitOutcome(): ChatOutcome {
    return { reason: 'user-quit', sessionId: this.sessionId, turns: this.turns };
  }

  /** Sleeps, waking early on abort; resolves true when aborted. */
  private wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.options.signal.removeEventListener('abort', onAbort);
        this.stopped.signal.removeEventListener('abort', onAbort);
        resolve(false);
      }, ms);
      this.options.signal.addEventListener('abort', onAbort, { once: true });
      this.stopped.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** One connection's life. Resolves with a final outcome or a drop to recover from. */
  private runSession(connection: Connection): Promise<ChatOutcome | { reason: 'dropped'; error: HydraError; ranOk: boolean }> {
    const { options } = this;
    this.connection = connection;
    this.sessionId = connection.sessionId;
    this.connectedAt = performance.now();
    this.turnsAtConnect = this.turns;
    this.toolAbort = new AbortController();
    this.state = initialState({ ...options.session, ...(options.tools ? { tools: options.tools.declarations() } : {}) });
    options.observe({ type: 'connection', detail: { status: 'connected', sessionId: connection.sessionId } });
    return new Promise((resolve) => {
      let settled = false;
      const settle = (value: ChatOutcome | { reason: 'dropped'; error: HydraError; ranOk: boolean }): void => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener('abort', onAbort);
        this.finish = null;
        this.clearTimers();
        this.toolAbort.abort();
        this.connection = null;
        resolve(value);
      };
      this.finish = (outcome) => {
        void connection.close(1000).then(() => settle(outcome));
      };
      const onAbort = (): void => this.end(this.quitOutcome());
      options.signal.addEventListener('abort', onAbort, { once: true });
      if (this.pendingEnd || options.signal.aborted) {
        this.end(this.pendingEnd ?? this.quitOutcome());
        return;
      }
      connection.onClose((info) => settle(this.pendingEnd ?? this.afterClose(info)));
      this.sendFrame(configureFrame(this.state!));
      connection.onFrame((frame) => this.onInbound(frame));
    });
  }

  private afterClose(info: CloseInfo): ChatOutcome | { reason: 'dropped'; error: HydraError; ranOk: boolean } {
    // §1.7 resets the backoff after a session that *ran*: configured, and either a turn was answered or it
    // lasted a while. A server that accepts and drops at once must not get an endless 1 s reconnect loop.
    const ranOk =
      (this.state?.configured ?? false) && (this.turns > this.turnsAtConnect || performance.now() - this.connectedAt >= STABLE_SESSION_MS);
    if (info.serverFull || info.code === 1013) {
      return { reason: 'dropped', error: new HydraError('server-full', 'Hydra is at capacity (server_full)'), ranOk: false };
    }
    if (info.code === 1000) return { reason: 'server-closed', sessionId: this.sessionId, turns: this.turns };
    if (info.code === 1009 || info.frameTooLarge) {
      // ws closes with 1009 itself when a frame exceeds maxPayload: say so, not "the server closed".
      return { reason: 'dropped', error: new HydraError('connect-failed', `a frame larger than ${MAX_FRAME_BYTES / 1024 / 1024} MB arrived; the connection was closed to protect memory`), ranOk };
    }
    const why = info.code === 1006 ? 'the connection dropped' : `the server closed the connection (code ${info.code}${info.reason ? `: ${info.reason}` : ''})`;
    return { reason: 'dropped', error: new HydraError('connect-failed', why), ranOk };
  }

  /** Ends the run with this outcome: closes the socket with 1000 if one is open. First call wins. */
  private end(outcome: ChatOutcome): void {
    if (this.ending) return;
    this.ending = true;
    this.pendingEnd = outcome;
    this.stopped.abort();
    this.finish?.(outcome);
  }
  private readonly stopped = new AbortController();
  private ending = false;
  private pendingEnd: ChatOutcome | null = null;

  private onInbound(frame: Inbound): void {
    this.options.observe({ type: 'frame', direction: 'in', frame: describeInbound(frame.decoded as never), at: frame.at - this.startedAt });
    const { decoded } = frame;
    if (decoded.kind === 'unknown') {
      const type = clip(decoded.type);
      this.note({ kind: 'anomaly', key: `unknown:${type}`, message: `ignored an unknown event type "${type}"` });
      return;
    }
    if (decoded.kind === 'invalid') {
      const type = decoded.type === undefined ? '' : clip(decoded.type);
      this.note({ kind: 'anomaly', key: `invalid:${type}`, message: `ignored a malformed frame${type ? ` (${type})` : ''}: ${clip(decoded.problem, 200)}` });
      return;
    }
    if (decoded.event.type === 'session.configured' && this.sink === null) {
      const rate = decoded.event.session?.output_audio_sample_rate ?? 48000;
      void this.openSinkThenDispatch(rate, { type: 'server', event: decoded.event, at: frame.at });
      return;
    }
    this.dispatch({ type: 'server', event: decoded.event, at: frame.at });
  }

  private sinkOpening: Promise<void> | null = null;
  private queuedInputs: Input[] = [];

  private async openSinkThenDispatch(rate: number, input: Input): Promise<void> {
    this.queuedInputs.push(input);
    if (this.sinkOpening) return;
    this.sinkOpening = (async () => {
      try {
        this.sink = await this.options.openSink(rate);
        this.sink.onIdle(() => this.checkInputFinished());
        this.sink.onError = (error) => this.end({ reason: 'error', error, sessionId: this.sessionId, turns: this.turns });
      } catch (error) {
        this.end({ reason: 'error', error: toHydraError(error, 'audio-device'), sessionId: this.sessionId, turns: this.turns });
        return;
      }
      const inputs = this.queuedInputs.splice(0);
      for (const queued of inputs) this.dispatch(queued);
    })();
  }

  private dispatch(input: Input): void {
    if (this.state === null) return;
    if (this.sinkOpening && this.sink === null) {
      this.queuedInputs.push(input);
      return;
    }
    const { state, effects } = reduce(this.state, input);
    const before = this.state.phase;
    this.state = state;
    for (const effect of effects) this.perform(effect);
    if (state.phase !== before) this.options.observe({ type: 'connection', detail: { status: 'phase', phase: state.phase } });
    this.checkInputFinished();
  }

  private perform(effect: Effect): void {
    switch (effect.type) {
      case 'send':
        this.sendFrame(effect.event);
        return;
      case 'play-audio':
        this.playAudio(effect.pcm);
        return;
      case 'flush-audio':
        this.flushAudio(effect.reason);
        return;
      case 'run-tool':
        void this.runTool(effect.callId, effect.name, effect.argumentsText);
        return;
      case 'start-debounce': {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.dispatch({ type: 'debounce-elapsed', token: effect.token, at: performance.now() });
        }, effect.ms);
        this.timers.add(timer);
        return;
      }
      case 'metric':
        this.turns += 1;
        this.options.observe({ type: 'metric', metric: effect.metric, turn: this.turns });
        return;
      case 'show':
        this.note(effect.note);
        return;
    }
  }

  private playedResponse: string | null = null;

  private playAudio(pcm: Buffer): void {
    const responseId = this.state?.responseId ?? '';
    if (this.sink && this.playedResponse !== responseId) {
      this.sink.markResponse();
      this.playedResponse = responseId;
    }
    this.sink?.write(pcm);
    if (this.options.outputPath) void this.writeOutput(pcm);
  }

  private async writeOutput(pcm: Buffer): Promise<void> {
    if (this.output === null) {
      const rate = this.state?.outputSampleRate ?? 48000;
      const onError = (error: HydraError): void => this.end({ reason: 'error', error, sessionId: this.sessionId, turns: this.turns });
      this.outputOpening ??= WavWriter.open(this.options.outputPath!, { sampleRate: rate, channels: 1, flag: '--output', onError }).then((writer) => {
        this.output = writer;
        return writer;
      });
      try {
        const writer = await this.outputOpening;
        writer.write(pcm);
      } catch (error) {
        this.end({ reason: 'error', error: toHydraError(error, 'output-file'), sessionId: this.sessionId, turns: this.turns });
      }
      return;
    }
    this.output.write(pcm);
  }
  private outputOpening: Promise<WavWriter> | null = null;

  private flushAudio(reason: string): void {
    if (!this.sink) return;
    const playedMs = this.sink.playedMs();
    const droppedMs = this.sink.flush();
    if (this.playedResponse !== null && (droppedMs > 0 || reason !== 'new-response')) {
      this.options.observe({ type: 'played', responseId: this.playedResponse, playedMs, droppedMs, reason });
    }
  }

  private async runTool(callId: string, name: string, argumentsText: string): Promise<void> {
    const runner = this.options.tools;
    const signal = this.toolAbort.signal;
    const started = performance.now();
    let result: ToolRun;
    if (!runner) {
      result = { ok: false, output: JSON.stringify({ error: `no handler for tool "${name}" in this client` }), durationMs: 0, error: 'no handler' };
    } else {
      try {
        result = await runner.run(name, argumentsText, { signal, callId });
      } catch (error) {
        // The runner promises not to throw; if it does anyway, the model still gets an answer.
        const message = error instanceof Error ? error.message : String(error);
        result = { ok: false, output: JSON.stringify({ error: message }), durationMs: performance.now() - started, error: message };
      }
    }
    if (signal.aborted) return; // the connection this call belonged to is gone (§ reliability: discard)
    this.dispatch({ type: 'tool-result', callId, output: result.output, ok: result.ok, durationMs: result.durationMs, at: performance.now() });
  }

  private onMicFrame(frame: AudioFrame): void {
    const pcm = this.options.processFrame ? this.options.processFrame(frame, this.sink) : frame.pcm;
    if (this.silenceAfterInputMs >= 0) {
      this.silenceAfterInputMs += this.options.source.frameMs;
      this.checkInputFinished();
    }
    const connection = this.connection;
    // §2.2: never send audio before session.configured; frames during a reconnect are not sent.
    if (!connection || !this.state?.configured || !connection.isOpen()) {
      this.options.onSentFrame?.(pcm, frame.at, performance.now());
      return;
    }
    this.sendFrame(appendAudio(pcm), true);
    this.options.onSentFrame?.(pcm, frame.at, performance.now());
  }

  private sendFrame(event: ClientEvent, isAudio = false): void {
    const connection = this.connection;
    if (!connection) return;
    connection.send(event);
    if (!isAudio || this.options.logAudioFrames) {
      this.options.observe({ type: 'frame', direction: 'out', frame: elideAudio(event), at: performance.now() - this.startedAt });
    }
  }

  private readonly shownAnomalies = new Set<string>();
  private anomaliesMuted = false;

  private note(note: Note): void {
    if (note.kind === 'anomaly') {
      // Each kind of anomaly is shown once, concisely; a hostile server cannot flood the screen.
      if (this.shownAnomalies.has(note.key)) return;
      if (this.shownAnomalies.size >= MAX_ANOMALY_KINDS) {
        // A server inventing endless new kinds (e.g. random unknown types) gets one last line, then silence.
        if (this.anomaliesMuted) return;
        this.anomaliesMuted = true;
        note = { kind: 'anomaly', key: 'anomalies-muted', message: `more than ${MAX_ANOMALY_KINDS} kinds of malformed frames; further ones are not shown` };
      } else {
        this.shownAnomalies.add(note.key);
      }
    }
    this.options.observe({ type: 'note', note });
  }

  private checkInputFinished(): void {
    const end = this.options.endAfterInput;
    if (!end || this.silenceAfterInputMs < end.trailingSilenceMs) return;
    if (!this.state || !isQuiet(this.state)) return;
    if (this.sink && !this.sink.idle()) return;
    this.end({ reason: 'input-finished', sessionId: this.sessionId, turns: this.turns });
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async teardown(_outcome: ChatOutcome): Promise<void> {
    this.clearTimers();
    await Promise.allSettled([this.options.source.close(), this.sink?.close() ?? Promise.resolve(), this.closeOutput()]);
  }

  private async closeOutput(): Promise<void> {
    const writer = this.output ?? (this.outputOpening ? await this.outputOpening.catch(() => null) : null);
    await writer?.close();
  }
}
