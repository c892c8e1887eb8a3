/**
 * The default command: turn CLI options into a running chat — pick the audio source and sink,
 * start the in-process simulator for --mock, print events, and map the ending to an exit code.
 */
import { performance } from 'node:perf_hooks';
import type { AudioSink, AudioSource } from './audio/types.js';
import { LiveAudio } from './audio/live.js';
import { DEFAULTS } from './defaults.js';
import { levelDbfs } from './audio/pcm.js';
import { checkDistinctPaths, checkOutputFile } from './audio/output-file.js';
import { sendSummary } from './audio/pipeline/send-summary.js';
import { echoMode, echoStage } from './audio/pipeline/echo-mode.js';
import { fanOut } from './audio/pipeline/stage.js';
import { meterStage, muteStage, tapStage } from './audio/pipeline/stages.js';
import { ConversationRecorder } from './audio/recorder.js';
import { releaseReservedWavs, reserveWav } from './audio/wav.js';
import { startChat, type ChatEvent, type ChatOutcome } from './chat.js';
import { HydraError } from './errors.js';
import { atExit } from './exit-hooks.js';
import { isLoopbackUrl, parseServerUrl, plainTextWarning } from './server-url.js';
import { percentile } from './metrics.js';
import { knownModels, modelInfo, pickModel } from './models.js';
import type { SessionConfig } from './protocol.js';
import { redact, registerSecret } from './redact.js';
import { withDefaults } from './config/merge.js';
import type { Settings } from './config/settings.js';
import { migrationHint, plainWarning } from './ui/state.js';
import { createView, type KeyInput } from './ui/view.js';
import type { Output } from './ui/output.js';
import { cleanField } from './ui/sanitize.js';
import { findDefaultToolsFile } from './tools/files.js';
import { mockSimulatorOptions, type MockFlags } from './mock/chat-options.js';
import { DEFAULT_URL } from './models.js';
import { CONFIG_FILE_MAX_BYTES, readTextFile, TextFileError } from './text-file.js';

export { DEFAULT_URL };

export type ChatCommandOptions = {
  voice?: string;
  model?: string;
  prompt?: string;
  promptFile?: string;
  greet?: boolean;
  url?: string;
  apiKey?: string;
  mock?: boolean;
  input?: string;
  output?: string;
  json?: boolean;
  verbose?: boolean;
  frameMs?: number;
  trailingSilenceMs?: number;
  maxRetries?: number;
  inputDevice?: string;
  outputDevice?: string;
  record?: string;
  /** --echo-guard (true: the guard) / --no-echo-guard (false: off); unset: the echo canceller with a live speaker. */
  echoGuard?: boolean;
  /** --echo cancel|guard|off (wins over --echo-guard / --no-echo-guard). */
  echo?: string;
  /** --reply-timeout in seconds: a detected turn with no reply (an error with --input, else a warning). */
  replyTimeoutS?: number;
  /** Tools/agent config file (default: hydra.tools.json in the working directory; code configs only when named). */
  tools?: string;
  /** Replace existing --output / --record files (otherwise they are refused, exit 15). */
  force?: boolean;
} & MockFlags;

export type CommandContext = {
  out: Output;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  argv: readonly string[];
  stdin?: KeyInput;
  /** The user file's voice / model / greet: below flags and the agent config (src/config). */
  defaults?: Settings;
};

/** Runs a chat; resolves with the process exit code. Throws HydraError for usage problems. */
export async function runChatCommand(options: ChatCommandOptions, context: CommandContext): Promise<number> {
  const { out, env, signal } = context;
  const startedAt = performance.now();
  const parsedUrl = parseServerUrl(options.url ?? DEFAULT_URL);
  echoMode(options);
  checkDistinctPaths({ input: options.input, output: options.output, record: options.record });
  if (options.output !== undefined) checkOutputFile(options.output, { overwrite: options.force === true, flag: '--output' });
  if (options.record !== undefined) checkOutputFile(options.record, { overwrite: options.force === true, flag: '--record' });
  const agentFile = options.tools ?? findDefaultToolsFile(process.cwd(), (line) => out.warn(line)) ?? undefined;
  // The config loader (jiti, ajv, zod) is only loaded when there is an agent file: start-up stays quick.
  const toolsModule = agentFile === undefined ? null : await import('./tools/index.js');
  const agent = agentFile === undefined || toolsModule === null ? null : await toolsModule.loadAgentConfig(agentFile, { signal, log: toolsModule.toolLogLine(out) });
  // The config file describes the agent; flags given on the command line win.
  // Then the user's defaults file (src/config) fills what neither flags nor the agent config set.
  const effective: ChatCommandOptions = withDefaults({
    ...options,
    ...(options.model === undefined && agent?.model !== undefined ? { model: agent.model } : {}),
    ...(options.voice === undefined && agent?.voice !== undefined ? { voice: agent.voice } : {}),
    ...(options.greet === undefined && agent?.greet !== undefined ? { greet: agent.greet } : {}),
    ...(options.prompt === undefined && options.promptFile === undefined && agent?.instructions !== undefined ? { prompt: agent.instructions } : {}),
  }, context.defaults);
  const model = pickModel(effective.voice, effective.model);
  const session = await sessionConfig(effective, model, out, signal);
  const tools = agent && toolsModule ? toolsModule.createToolRunner(agent) : null;
  if (options.replyTimeoutS !== undefined && options.replyTimeoutS < 1) throw new HydraError('usage', `--reply-timeout must be at least 1 s (got ${options.replyTimeoutS})`);
  const frameMs = options.frameMs ?? DEFAULTS.frameMs;
  if (!Number.isInteger(frameMs) || frameMs < 20 || frameMs > 40) {
    throw new HydraError('usage', `--frame-ms must be a whole number from 20 to 40 (got ${options.frameMs})`);
  }

  let apiKey = options.apiKey ?? env.SMALLEST_API_KEY ?? '';
  if (options.apiKey !== undefined) {
    out.warn('--api-key is visible to other users in the process list; prefer the SMALLEST_API_KEY environment variable');
  }
  let url = options.url ?? DEFAULT_URL;
  let stopSimulator: (() => Promise<void>) | null = null;
  const simulatorOptions = await mockSimulatorOptions(options); // validates --mock-… even without --mock
  if (!options.mock && apiKey === '' && !isLoopbackUrl(url)) {
    throw new HydraError('no-api-key', 'no API key: set SMALLEST_API_KEY (or pass --api-key)', {
      hint: 'to try hydra-chat offline, run it with --mock (the built-in simulator)',
    });
  }
  // A file input is opened (its header checked) before a simulator starts or a header is printed, so a
  // WAV it cannot use is the only thing said. A FIFO waits here for its writer; Ctrl-C ends the wait.
  const fileInput = options.input === undefined ? null : await openFileInput(options.input, frameMs, signal);
  if (fileInput === 'aborted') return 0;
  if (options.mock) {
    const { createSimulator } = await import('./mock/server.js');
    const simulator = await createSimulator(simulatorOptions);
    url = simulator.url;
    apiKey = apiKey || 'mock-key';
    stopSimulator = () => simulator.close();
    out.line(out.chalk.dim(`using the built-in Hydra simulator at ${simulator.url} (--mock)`));
  } else if (apiKey === '' && isLoopbackUrl(url)) {
    // A local simulator (`hydra-chat simulate`) accepts any key: no need to make one up (issue 16).
    apiKey = 'local-placeholder-key';
    out.line(out.chalk.dim(`no API key: sending a placeholder to the local endpoint ${new URL(url).host}`));
  }
  registerSecret(apiKey);
  const plain = options.mock || apiKey === '' ? null : plainTextWarning(parsedUrl);
  if (plain !== null) out.warn(plain);

  const view = createView({
    out,
    liveScreen: out.interactive ? (await import('./ui/terminal.js')).startLiveScreen : null,
    input: context.stdin ?? null,
    verbose: options.verbose === true,
    header: { model, voice: session.voice, url: redact(url), tools: tools ? tools.declarations().map((tool) => tool.name) : [], mock: options.mock === true },
  });
  const quit = new AbortController();
  const live = new LiveAudio({
    inputDevice: options.inputDevice,
    outputDevice: options.outputDevice,
    signal,
    onWarning: (line) => out.debug(`audio: ${cleanField(line)}`), // it names devices, as the system calls them
  });
  const levels = { muted: false, inputDb: -100, outputDb: -100, outputAt: 0 };
  // The level meters are drawn only on the live screen (a terminal): elsewhere nobody reads them.
  const meters = out.interactive;
  let recorder: ConversationRecorder | null = null;
  // A write that fails (a full disk) ends the run with exit 15; the file keeps what reached the disk.
  let fileError: HydraError | null = null;
  let sink: AudioSink | null = null;
  const playing = (): boolean => sink !== null && !sink.idle();
  const echo = await echoStage(effective, frameMs, playing);
  const micLatency: number[] = [];
  const summary = options.verbose === true && !out.jsonMode ? sendSummary((text, at) => view.observe({ type: 'frame', direction: 'out', frame: { type: text }, at: at - startedAt })) : null;
  let watcher: { close(): void } | null = null;
  // Ctrl-C, a crash or a kill: whatever was recorded is already a valid file; finish it properly.
  const forgetRecorder = atExit(() => recorder?.closeSync());
  try {
    if (options.output !== undefined) reserveWav(options.output, { overwrite: options.force === true, flag: '--output' });
    if (options.record !== undefined) {
      recorder = await ConversationRecorder.create(options.record, {
        overwrite: options.force === true,
        onError: (error) => {
          fileError ??= error;
          quit.abort();
        },
      });
    }
    const source: { source: AudioSource; ended?: Promise<void> } = fileInput ?? { source: await live.microphone(frameMs) };
    const chat = startChat({
      url,
      model,
      apiKey,
      session,
      source: source.source,
      openSink: async (rate) => {
        const opened = await openSink(options, rate, out, live);
        sink = opened.sink;
        // Played audio goes straight up: meters, the echo stage's far end, the recording. With none of
        // them, nothing listens (a clock sink then needs no timer per chunk).
        const taps = [
          meters
            ? (pcm: Buffer) => {
                levels.outputDb = levelDbfs(pcm);
                levels.outputAt = performance.now();
              }
            : null,
          opened.kind === 'speaker' ? echo?.playback : null,
          recorder ? (pcm: Buffer, at: number, pcmRate?: number) => void recorder?.model(pcm, at, pcmRate ?? rate) : null,
        ];
        if (taps.some((tap) => tap)) {
          const tap = fanOut(taps);
          opened.sink.onPlayed = (pcm, at, pcmRate) => tap(pcm, at, pcmRate ?? rate);
        }
        // The playback queue is capped (a server sending far faster than real time): say so once per episode.
        opened.sink.onWarning = (message) => out.warn(message);
        return opened.sink;
      },
      // A mic frame goes straight down: mute → level meter → echo → recording → socket.
      micStages: [
        muteStage(() => levels.muted),
        ...(meters ? [meterStage((db) => (levels.inputDb = db))] : []),
        ...(echo ? [echo] : []),
        ...(recorder ? [tapStage('recorder', (frame) => void recorder?.user(frame.pcm, performance.now()))] : []),
      ],
      onSentFrame: (pcm, capturedAt, sentAt) => {
        if (options.input === undefined && micLatency.length < 100_000) micLatency.push(sentAt - capturedAt);
        summary?.(pcm, sentAt);
      },
      ...(tools ? { tools } : {}),
      ...(options.output === undefined ? {} : { outputPath: options.output }),
      ...(source.ended === undefined
        ? {}
        : { endAfterInput: { inputEnded: source.ended, trailingSilenceMs: options.trailingSilenceMs ?? DEFAULTS.trailingSilenceMs }, inputName: options.input! }),
      ...(options.replyTimeoutS === undefined ? {} : { replyTimeoutMs: options.replyTimeoutS * 1000 }),
      observe: out.jsonMode ? jsonObserver(out, model) : (event) => view.observe(event),
      signal: AbortSignal.any([signal, quit.signal]),
      logFrames: out.jsonMode || options.verbose === true,
      logAudioFrames: options.json === true,
      ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    });
    watcher =
      agentFile === undefined || tools === null || toolsModule === null
        ? null
        : toolsModule.attachTools(agentFile, tools, chat, out, (names) => view.setTools(names));
    view.attach({
      interrupt: () => chat.interrupt(),
      toggleMute: () => {
        levels.muted = !levels.muted;
        out.json({ event: levels.muted ? 'mute' : 'unmute' });
        return levels.muted;
      },
      quit: () => quit.abort(),
      quitNow: () => process.exit(130),
      levels: () => {
        const now = playing();
        // The speaker meter falls back to silence once nothing has played for a moment.
        return { inputDb: levels.inputDb, outputDb: now || performance.now() - levels.outputAt < 150 ? levels.outputDb : -100, playing: now };
      },
    });
    const outcome = await chat.done;
    view.close();
    recorder?.closeSync();
    if (micLatency.length > 0) {
      out.debug(`mic → socket latency: p50 ${percentile(micLatency, 50)?.toFixed(2)} ms, p99 ${percentile(micLatency, 99)?.toFixed(2)} ms over ${micLatency.length} frames`);
    }
    // A session that never started (the connect failed) has nothing to sum up: the error says it all.
    if (!out.jsonMode && outcome.sessionId !== '') view.summary(outcome, recorder ? { recordingPath: recorder.path } : {});
    return report(fileError ? { ...outcome, reason: 'error', error: fileError } : outcome, out);
  } finally {
    watcher?.close();
    view.close();
    recorder?.closeSync();
    forgetRecorder();
    releaseReservedWavs();
    await stopSimulator?.();
  }
}

async function sessionConfig(options: ChatCommandOptions, model: string, out: Output, signal: AbortSignal): Promise<SessionConfig> {
  const info = modelInfo(model);
  if (!info) out.warn(`unknown model "${model}"; known: ${knownModels()} (sent anyway)`);
  // Without --voice no voice is sent: the server picks its default for the model (issue 16).
  const voice = options.voice;
  if (options.voice !== undefined && info && !info.voices.includes(options.voice)) {
    out.warn(`"${options.voice}" is not a ${model} voice; valid: ${info.voices.join(', ')} (sent anyway)`);
  }
  let instructions = options.prompt;
  if (options.promptFile !== undefined) {
    // Bounded (/dev/zero): a prompt past the configure frame's limit is refused with the sizes, below.
    instructions = (
      await readTextFile(options.promptFile, { maxBytes: CONFIG_FILE_MAX_BYTES, signal }).catch((error: unknown) => {
        if (!(error instanceof TextFileError)) throw error;
        if (error.code === 'ABORT_ERR') throw new HydraError('interrupted', `stopped while waiting for --prompt-file ${options.promptFile}`);
        throw new HydraError('usage', `cannot read --prompt-file ${options.promptFile}: ${error.why}`);
      })
    ).trim();
  }
  return {
    ...(instructions === undefined ? {} : { instructions }),
    ...(voice === undefined ? {} : { voice }),
    generate_initial_response: options.greet === true,
  };
}

/** The --input file as a paced source; 'aborted' when Ctrl-C / SIGTERM ended the wait for a FIFO's writer. */
async function openFileInput(path: string, frameMs: number, signal: AbortSignal): Promise<{ source: AudioSource; ended: Promise<void> } | 'aborted'> {
  const { createFileSource } = await import('./audio/file-source.js');
  try {
    const source = await createFileSource(path, { frameMs, signal });
    return { source, ended: source.ended };
  } catch (error) {
    if (signal.aborted) return 'aborted';
    throw error;
  }
}

async function openSink(options: ChatCommandOptions, rate: number, out: Output, live: LiveAudio): Promise<{ sink: AudioSink; kind: 'speaker' | 'clock' }> {
  const { createClockSink } = await import('./audio/clock-sink.js');
  if (options.output !== undefined) return { sink: createClockSink(rate), kind: 'clock' };
  try {
    return { sink: await live.speaker(rate), kind: 'speaker' };
  } catch (error) {
    if (options.input === undefined) throw error;
    // A file-driven run still works without a sound card; say what the user is missing.
    const reason = error instanceof HydraError ? error.message : String(error);
    out.warn(`no speaker (${reason}); the reply is not played — use --output reply.wav to keep it`);
    return { sink: createClockSink(rate), kind: 'clock' };
  }
}

function jsonObserver(out: Output, model: string): (event: ChatEvent) => void {
  return (event) => {
    out.json(jsonEvent(event, out.elapsedMs()));
    // The server's warnings (model_deprecated, …) also reach the person, on stderr.
    if (event.type === 'note' && event.note.kind === 'warning') {
      out.warn(`${plainWarning(event.note.code, event.note.message)}${event.note.code === 'model_deprecated' ? migrationHint(model) : ''}`);
    }
  };
}

/** The NDJSON shape of a chat event: frames as they crossed the wire (audio elided), the rest as facts. */
export function jsonEvent(event: ChatEvent, tMs: number): Record<string, unknown> {
  const t = Math.round(tMs * 10) / 10;
  switch (event.type) {
    case 'frame':
      return { t, dir: event.direction, frame: event.frame };
    case 'connection': {
      const { detail } = event;
      if (detail.status === 'retrying') {
        return { t, event: 'retrying', why: detail.why, in_ms: detail.inMs, attempt: detail.attempt, error: detail.error.message };
      }
      return { t, event: detail.status, ...detail };
    }
    case 'note':
      return { t, event: 'note', ...event.note };
    case 'metric':
      return { t, event: 'turn', turn: event.turn, ...event.metric };
    case 'played':
      return { t, event: 'playback', ...event };
  }
}

function report(outcome: ChatOutcome, out: Output): number {
  out.json({ event: 'end', reason: outcome.reason, session_id: outcome.sessionId, turns: outcome.turns, ...(outcome.reason === 'error' ? { code: outcome.error.code, message: outcome.error.message } : {}) });
  switch (outcome.reason) {
    case 'input-finished':
    case 'user-quit':
      return 0;
    case 'server-closed':
      out.line(out.chalk.dim('the server ended the session (idle timeout or normal close)'));
      return 0;
    case 'error':
      out.error(outcome.error.message, outcome.error.hint);
      return outcome.error.exitCode;
  }
}
