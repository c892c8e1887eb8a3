/** `hydra-chat simulate`: run the local Hydra simulator stand-alone until the caller's signal aborts. */
import type { Command } from 'commander';
import { HydraError } from '../errors.js';
import { isProfile, PROFILES } from './profile.js';
import type { SimulatorOptions } from './server.js';

/** Options as commander hands them over (strings until parsed). */
export type SimulateCommandOptions = {
  port?: string;
  host?: string;
  profile?: string;
  apiKey?: string;
  capacity?: string;
  idleTimeout?: string;
  rules?: string;
  realtimeFactor?: string;
  transcripts?: boolean;
  /** Commander's `--no-auto-tools` sets false. */
  autoTools?: boolean;
};

/** Where the command writes its one status line. */
export type SimulateOutput = { log(line: string): void };

/** Add the `simulate` subcommand. `signal` ends it (the CLI owns SIGINT); without one it runs until exit. */
export function registerSimulateCommand(program: Command, out: SimulateOutput, signal?: AbortSignal): Command {
  return program
    .command('simulate')
    .description('run the local Hydra simulator (a WebSocket server speaking the Hydra protocol) until interrupted')
    .option('--port <n>', 'TCP port (0 = any free port)', '8765')
    .option('--host <h>', 'interface to listen on', '127.0.0.1')
    .option('--profile <p>', `server behaviour to imitate: ${PROFILES.join(', ')} (see README, "Simulator profiles")`, 'aug-2026')
    .option('--api-key <k>', 'accept only this api_key (default: any non-empty key)')
    .option('--capacity <n>', 'concurrent sessions before server_full + close 1013')
    .option('--idle-timeout <ms>', 'close 1000 after this long without a frame either way', '30000')
    .option('--rules <file.json>', 'deterministic tool calls: [{ "turn": 1, "calls": [{ "name": …, "arguments": {…} }] }]')
    .option('--realtime-factor <x>', 'response audio delivery speed relative to real time', '10')
    .option('--transcripts', 'also send response.output_audio_transcript.delta (off on the real server, §10.22)')
    .option('--no-auto-tools', 'never call a declared tool on its own (default without --rules: one call per user turn, round-robin)')
    .action((options: SimulateCommandOptions) => runSimulateCommand(options, signal ?? new AbortController().signal, out));
}

/** Start the simulator, print where it listens, resolve when `signal` aborts (after closing it). */
export async function runSimulateCommand(options: SimulateCommandOptions, signal: AbortSignal, out: SimulateOutput): Promise<void> {
  const simulatorOptions = await parseOptions(options);
  if (signal.aborted) return;
  const { createSimulator } = await import('./server.js');
  const simulator = await createSimulator(simulatorOptions);
  out.log(`Hydra simulator listening on ${simulator.url}`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await simulator.close();
}

async function parseOptions(options: SimulateCommandOptions): Promise<SimulatorOptions> {
  const profile = options.profile ?? 'aug-2026';
  if (!isProfile(profile)) throw usage(`--profile must be one of ${PROFILES.join(', ')}, not '${profile}'`);
  if (options.apiKey !== undefined && options.apiKey === '') throw usage('--api-key must not be empty');
  return {
    host: options.host ?? '127.0.0.1',
    port: integer('--port', options.port ?? '8765', 0, 65535),
    profile,
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(options.capacity !== undefined ? { capacity: integer('--capacity', options.capacity, 1, 1_000_000) } : {}),
    idleTimeoutMs: integer('--idle-timeout', options.idleTimeout ?? '30000', 1, 24 * 3600 * 1000),
    realtimeFactor: bounded('--realtime-factor', options.realtimeFactor ?? '10', 0.01, 10_000),
    transcripts: options.transcripts ?? false,
    ...(options.autoTools === false ? { autoToolCalls: false } : {}),
    ...(options.rules !== undefined ? { rules: await (await import('./rules.js')).loadRules(options.rules) } : {}),
  };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw usage(`${flag} must be an integer from ${min} to ${max}, not '${text}'`);
  return value;
}

/** A number in [min, max]: each response chunk waits 40 ms / factor, which Node's timers must hold. */
function bounded(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !(value >= min && value <= max)) throw usage(`${flag} must be a number from ${min} to ${max}, not '${text}'`);
  return value;
}

function usage(message: string): HydraError {
  return new HydraError('usage', message, { hint: 'see hydra-chat simulate --help' });
}
