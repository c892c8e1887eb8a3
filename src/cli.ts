/**
 * The command line. The only module that reads argv and env, handles signals and exits.
 */
import { isAbsolute, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { registerCompletionCommands } from './completion/command.js';
import { registerConfigCommand } from './config/command.js';
import { applyUserSettings } from './config/merge.js';
import { loadUserSettings } from './config/settings.js';
import { registerDoctorCommand } from './doctor/command.js';
import type { ChatCommandOptions } from './chat-command.js';
import { HydraError, toHydraError } from './errors.js';
import { DEFAULTS } from './defaults.js';
import { installExitHooks } from './exit-hooks.js';
import { keepYoungGenerationSmall } from './heap.js';
import { registerSimulateCommand } from './mock/command.js';
import { DEFAULT_MODEL, DEFAULT_URL, MODELS } from './models.js';
import { registerRunCommand } from './scenario/command.js';
import { registerToolsCommand } from './tools/command.js';
import { redact, registerSecret, registerUrlSecrets } from './redact.js';
import { currentToolHandler, outsideToolHandlers } from './tools/handler.js';
import { createOutput, wantsColor, type Output } from './ui/output.js';
import { cleanField } from './ui/sanitize.js';

/** The output flags that make sense on every command that prints (`devices --verbose`, `voices --json`). */
function outputFlags(command: Command): Command {
  return command
    .option('--json', 'machine-readable output on stdout')
    .option('--verbose', 'more detail')
    .option('--quiet', 'print only errors')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)');
}

function integer(name: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
    return parsed;
  };
}

/** Builds the program; `main` runs it. Exported for tests. */
export function buildProgram(context: { output: () => Output; signal: AbortSignal; setExit: (code: number) => void }): Command {
  const program = new Command('hydra-chat')
    .description("Talk to Hydra, Smallest AI's speech-to-speech model, from the terminal.")
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run hydra-chat --help for usage)')
    .helpCommand('help [command]', 'show help for a command')
    .enablePositionalOptions()
    .addOption(new Option('--voice <name>', 'voice; it picks its model (reed → hydra, aria → hydra-v1.1; see `hydra-chat voices`)').default(undefined, "none sent: the server's default"))
    .addOption(new Option('--model <tag>', `model tag (${Object.keys(MODELS).join(', ')}); wins over the voice's model`).default(undefined, `the voice's model, else ${DEFAULT_MODEL}`))
    .option('--prompt <text>', 'instructions (system prompt) for the agent')
    .option('--prompt-file <file>', 'read the instructions from a file')
    .option('--greet', 'the model speaks first (generate_initial_response)')
    .option('--url <ws-url>', 'Hydra endpoint', DEFAULT_URL)
    .option('--api-key <key>', 'API key (prefer the SMALLEST_API_KEY environment variable)')
    .option('--mock', 'talk to the built-in offline Hydra simulator instead of the service')
    .option('--mock-transcripts', 'with --mock: the simulator also sends transcripts (the real service does not)')
    .option('--mock-rules <file.json>', 'with --mock: exactly these tool calls, [{ "turn": 1, "calls": [{ "name": …, "arguments": {…} }] }] (default: a declared tool on every turn)')
    .option('--input <wav>', 'speak this WAV file instead of the microphone (any rate/channels), then exit once the reply has played')
    .option('--output <wav>', "write the model's audio, as received, to this WAV (at the server's rate) instead of playing it")
    .option('--json', 'NDJSON on stdout: every frame both ways (audio elided) and hydra-chat events')
    .option('--frame-ms <ms>', 'microphone frame length, 20-40 ms', integer('--frame-ms'), DEFAULTS.frameMs)
    .option('--trailing-silence <ms>', 'with --input: silence sent after the file so the turn can end', integer('--trailing-silence'), DEFAULTS.trailingSilenceMs)
    .option('--max-retries <n>', 'reconnect attempts after a drop or server_full', integer('--max-retries'), DEFAULTS.maxRetries)
    .option('--tools <file>', 'agent + tools config (.json, .ts, .js); default: hydra.tools.json in this directory (a .ts/.js config runs only when named here); reloaded when it changes')
    .option('--input-device <id|name>', 'microphone: a device id or (part of) its name from `hydra-chat devices` (default: the system default)')
    .option('--output-device <id|name>', 'speaker: a device id or (part of) its name (default: the system default)')
    .option('--record <wav>', 'record the conversation as heard: stereo 48 kHz WAV, you left, the model right (valid even after Ctrl-C)')
    .option('--force', 'replace existing --output / --record files (without it they are refused)')
    .option('--echo-guard', 'same as --echo guard')
    .option('--no-echo-guard', 'with headphones: full duplex, the mic always open (same as --echo off)')
    .addOption(new Option('--echo <mode>', 'echo handling with a live speaker: cancel (default: an echo canceller, full duplex on laptop speakers), guard (mute the mic while the model plays unless you speak clearly louder) or off (headphones)').choices(['cancel', 'guard', 'off']))
    .option('--reply-timeout <s>', `a turn the server heard but did not answer, or a reply that went silent, for this long (default ${DEFAULTS.replyTimeoutMs / 1000}): an error with --input, a warning in live chat`, integer('--reply-timeout'))
    .option('--verbose', 'show every frame type with timing')
    .option('--quiet', 'print only errors')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .addHelpText(
      'after',
      () => `
Try the following:
  $ hydra-chat --mock --input ${sampleWav()} --output reply.wav
  $ SMALLEST_API_KEY=... hydra-chat --voice aria
  $ hydra-chat doctor
  $ hydra-chat simulate --port 8765`,
    )
    .action(async (flags: ChatCommandOptions & { trailingSilence?: number; frameMs?: number; replyTimeout?: number }, command: Command) => {
      keepYoungGenerationSmall();
      const { runChatCommand } = await import('./chat-command.js');
      // The user's defaults file fills what no flag set (src/config: flags > project file > user file).
      const user = await loadUserSettings(process.env);
      registerUrlSecrets(user?.settings.url); // --url values were registered from argv; this is the file's
      const { options, agentDefaults } = applyUserSettings(flags, (key) => command.getOptionValueSource(key) === 'cli', user?.settings ?? {});
      const code = await runChatCommand(
        { ...options, trailingSilenceMs: options.trailingSilence ?? DEFAULTS.trailingSilenceMs, ...(options.replyTimeout === undefined ? {} : { replyTimeoutS: options.replyTimeout }) },
        { out: context.output(), env: process.env, signal: context.signal, argv: process.argv, stdin: process.stdin, defaults: agentDefaults },
      );
      context.setExit(code);
    });

  outputFlags(program.command('voices').description('list the voices of each model')).action(() => {
      const out = context.output();
      for (const [tag, info] of Object.entries(MODELS)) {
        out.json({ event: 'voices', model: tag, voices: info.voices, note: info.note, ...(info.migrateTo ? { migrateTo: info.migrateTo } : {}) });
        out.line(`${out.chalk.bold(tag)}  ${out.chalk.dim(info.note)}`);
        out.line(`  ${info.voices.map((voice) => (voice === info.defaultVoice ? `${voice} (default)` : voice)).join(', ')}`);
      }
    });

  outputFlags(program.command('devices').description('list audio devices (id, name, host API, channels, default rate, defaults)')).action(async () => {
    const out = context.output();
    const { listDevices, formatDeviceList } = await import('./audio/devices.js');
    const started = performance.now();
    const list = await listDevices(context.signal);
    out.debug(`listed by the audio host (PortAudio) in ${Math.round(performance.now() - started)} ms`);
    if (out.jsonMode) out.json({ event: 'devices', ...list });
    for (const line of formatDeviceList(list)) out.line(line);
  });

  registerConfigCommand(outputFlags(program.command('config')), context);
  registerDoctorCommand(outputFlags(program.command('doctor')), context);
  registerCompletionCommands(program, context);

  program
    .command('echo-test')
    .description('play a short test sound and measure the speaker → microphone echo (delay, coupling, what the canceller removes)')
    .option('--input-device <id|name>', 'microphone (default: the system default)')
    .option('--output-device <id|name>', 'speaker (default: the system default)')
    .option('--json', 'print one JSON object (delayMs, couplingDb, erleDb, recommendation)')
    .action(async (options: { inputDevice?: string; outputDevice?: string; json?: boolean }) => {
      const { runEchoTestCommand } = await import('./echo-test-command.js');
      context.setExit(await runEchoTestCommand(options, { out: context.output(), signal: context.signal, print: (line) => process.stdout.write(`${line}\n`) }));
    });

  const lineTo = (stream: NodeJS.WriteStream) => (line: string) => stream.write(`${redact(line)}\n`);
  registerToolsCommand(program, { out: lineTo(process.stdout), err: lineTo(process.stderr), signal: context.signal });
  registerRunCommand(program, { out: lineTo(process.stdout), err: lineTo(process.stderr), env: process.env, signal: context.signal });
  registerSimulateCommand(program, { log: (line) => process.stdout.write(`${line}\n`) }, context.signal);
  return program;
}

const VERSION = '0.1.0';

/**
 * The sample WAV shipped in the package (examples/, listed in package.json `files`): relative to the
 * working directory when it is below it (a clone), else its installed absolute path.
 */
function sampleWav(): string {
  const path = fileURLToPath(new URL('../../examples/hello-16k.wav', import.meta.url));
  const shown = relative(process.cwd(), path);
  const chosen = shown.startsWith('..') || isAbsolute(shown) ? path : shown;
  return /[\s'"]/.test(chosen) ? `'${chosen.replace(/'/g, `'\\''`)}'` : chosen;
}

/** Every --api-key value (given twice, commander keeps the last: both are secrets), and the secrets in every --url. */
function registerKeyArguments(argv: readonly string[]): void {
  argv.forEach((arg, index) => {
    if (arg === '--api-key') registerSecret(argv[index + 1]);
    else if (arg.startsWith('--api-key=')) registerSecret(arg.slice('--api-key='.length));
    else if (arg === '--url') registerUrlSecrets(argv[index + 1]);
    else if (arg.startsWith('--url=')) registerUrlSecrets(arg.slice('--url='.length));
  });
}

/**
 * Commander's usage errors, redacted; an unknown `--option=value` is named without its value, which may
 * be the key under a misspelt flag (`--api-kee=sk-…`).
 */
function usageError(text: string): string {
  return redact(text.replace(/(unknown option '[^'=]*=)[^']*'/g, "$1…'"));
}

/** Entry point: parse, run, print errors as one or two lines, exit with the documented code. */
export async function main(argv: readonly string[]): Promise<number> {
  // Whatever command runs, the key is redacted from everything it prints (even a tool echoing it).
  registerSecret(process.env.SMALLEST_API_KEY);
  registerKeyArguments(argv);
  const controller = new AbortController();
  let exitCode = 0;
  let output: Output | null = null;
  const getOutput = (): Output => {
    if (output) return output;
    const opts = active.optsWithGlobals<{ json?: boolean; color?: boolean; quiet?: boolean; verbose?: boolean }>();
    output = createOutput({
      stdout: process.stdout,
      stderr: process.stderr,
      json: opts.json === true,
      color: wantsColor(opts.json ? process.stderr : process.stdout, process.env, opts.color),
      errorColor: wantsColor(process.stderr, process.env, opts.color),
      quiet: opts.quiet === true,
      verbose: opts.verbose === true,
      env: process.env,
    });
    return output;
  };
  const program = buildProgram({ output: getOutput, signal: controller.signal, setExit: (code) => (exitCode = code) });
  // Subcommands take the output flags too (`devices --verbose`): read them from the command that runs.
  let active: Command = program;
  program.hook('preAction', (_program, command) => {
    active = command;
  });
  // Every command, not only the root: a subcommand's usage error would otherwise exit(1) from inside
  // commander, skipping the exit code (2) and the redaction below.
  const configure = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({ writeErr: (text) => process.stderr.write(usageError(text)), writeOut: (text) => process.stdout.write(text) });
    command.commands.forEach(configure);
  };
  configure(program);

  let signals = 0;
  // SIGINT is the user quitting (0, like q); SIGTERM / SIGHUP end the run just as cleanly but say so (128+n).
  let signalExit: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(130); // a second Ctrl-C means now
    if (signal !== 'SIGINT') signalExit = 128 + (signal === 'SIGTERM' ? 15 : 1);
    controller.abort();
  };
  stopRun = () => controller.abort();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const hydraError = toHydraError(error);
    getOutput().error(hydraError.message, hydraError.hint);
    // An error caused by SIGTERM / SIGHUP (e.g. a config load it stopped) still exits as that signal says.
    return signalExit ?? hydraError.exitCode;
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
    stopRun = null;
  }
  return signalExit ?? exitCode;
}

/** Ends the running command cleanly (socket closed with 1000, recordings finalised); null when idle. */
let stopRun: (() => void) | null = null;

/** What bin/hydra-chat.js runs: main() with crash handling and a bounded exit. */
export async function run(): Promise<void> {
  installExitHooks();
  const internal = new HydraError('internal', '').exitCode;
  let crashed = false;
  // An error nothing caught (a bug, or a tool handler's stray timer throwing): say so in one line, then
  // end the run the clean way (close 1000, recordings finalised, terminal restored) within a second.
  // It runs in the context of what threw; a tool handler's timer is named, and the rest happens outside
  // that handler's context (its message and the bounded exit are hydra-chat's, not the handler's).
  const crash = (error: unknown): void => {
    const tool = currentToolHandler();
    outsideToolHandlers(() => {
      if (crashed) return;
      crashed = true;
      process.exitCode = internal;
      // The message may quote anything (a tool handler's stray throw of what it fetched): one clean line.
      const message = cleanField(String(error instanceof Error ? error.message : error));
      process.stderr.write(redact(tool === undefined ? `error: internal error: ${message}\n` : `error: tool "${cleanField(tool)}" threw outside its call (in a timer or callback): ${message}\n`));
      process.stderr.write(tool === undefined ? 'hint: the session was ended cleanly; if this is not from your own tool code, please report it\n' : 'hint: the session was ended cleanly; fix the handler so that it catches its own errors\n');
      stopRun?.();
      setTimeout(() => process.exit(internal), 1000).unref();
    });
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  // The reader went away (`hydra-chat voices | head`): stop quietly, as other command-line tools do.
  let pipeClosed = false;
  // stdout / stderr on a full disk (or /dev/full): one line where it can still be seen, exit 15.
  let outputFull = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOSPC' || error.code === 'EDQUOT') {
        if (outputFull) return;
        outputFull = true;
        const name = stream === process.stdout ? 'standard output' : 'standard error';
        if (stream === process.stdout) process.stderr.write(`error: cannot write ${name}: the disk is full (${error.code})\n`);
        stopRun?.();
        return;
      }
      if (error.code !== 'EPIPE') return crash(error);
      pipeClosed = true;
      stopRun?.();
    });
  }
  const result = await main(process.argv);
  const code = crashed ? internal : outputFull ? new HydraError('output-file', '').exitCode : pipeClosed ? 0 : result;
  process.exitCode = code;
  // Sockets and timers are closed by now; a stuck native handle must not keep a finished run alive.
  setTimeout(() => process.exit(code), 2000).unref();
}
