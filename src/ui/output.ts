/**
 * Where user-facing text goes. Plain lines for people (stderr when --json owns stdout), NDJSON for
 * scripts. Everything passes through `redact`, so the API key cannot reach the screen or a pipe.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { redact } from '../redact.js';
import { cleanField } from './sanitize.js';

export type Writable = { write(text: string): unknown; isTTY?: boolean; columns?: number };

export type Output = {
  readonly chalk: ChalkInstance;
  /** A line for the person. */
  line(text: string): void;
  /** Detail for --verbose only (dimmed; never with --json or --quiet). */
  debug(text: string): void;
  /** A machine-readable event (only with --json). */
  json(event: Record<string, unknown>): void;
  /** An error a person can act on: what happened, then what to do. */
  error(message: string, hint?: string): void;
  /** A warning that must reach the person even with --json or --quiet (then on stderr): security matters. */
  warn(text: string): void;
  readonly jsonMode: boolean;
  /** Where lines for the person go (stdout, or stderr under --json). */
  readonly stream: Writable;
  /** A person watches a real terminal: the live screen (spinner, meters) may be drawn there. */
  readonly interactive: boolean;
  /** With --verbose. */
  readonly verbose: boolean;
};

export type OutputOptions = {
  stdout: Writable;
  stderr: Writable;
  json: boolean;
  color: boolean;
  quiet: boolean;
  verbose?: boolean;
  /** The environment, for TERM=dumb (no live screen). */
  env?: NodeJS.ProcessEnv;
};

export function createOutput(options: OutputOptions): Output {
  const human = options.json ? options.stderr : options.stdout;
  const chalk = new Chalk({ level: options.color ? 1 : 0 });
  const dumb = options.env?.TERM === 'dumb';
  return {
    chalk,
    jsonMode: options.json,
    stream: human,
    interactive: !options.json && !options.quiet && !dumb && human.isTTY === true,
    verbose: options.verbose === true && !options.quiet && !options.json,
    line(text) {
      if (options.quiet || options.json) return;
      human.write(redact(text) + '\n');
    },
    debug(text) {
      if (!options.verbose || options.quiet || options.json) return;
      human.write(redact(chalk.dim(text)) + '\n');
    },
    json(event) {
      if (!options.json) return;
      // JSON.stringify escapes C0 controls; C1 controls are escaped too, so no terminal acts on them.
      options.stdout.write(redact(JSON.stringify(event)).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n');
    },
    warn(text) {
      const stream = options.json || options.quiet ? options.stderr : human;
      stream.write(redact(chalk.yellow(`warning: ${cleanField(text)}`)) + '\n');
    },
    error(message, hint) {
      // Messages may carry server text (a close reason, an error message): cleaned like every log line.
      const lines = [chalk.red(`error: ${cleanField(message)}`)];
      if (hint) lines.push(chalk.dim(cleanField(hint)));
      options.stderr.write(redact(lines.join('\n')) + '\n');
    },
  };
}

/** Colour is on for a TTY unless NO_COLOR is set or --no-color was given. */
export function wantsColor(stream: Writable, env: NodeJS.ProcessEnv, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}
