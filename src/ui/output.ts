/**
 * Where user-facing text goes. Plain lines for people (stderr when --json owns stdout), NDJSON for
 * scripts. Everything passes through `redact`, so the API key cannot reach the screen or a pipe.
 */
import { performance } from 'node:perf_hooks';
import { stripVTControlCharacters } from 'node:util';
import { Chalk, type ChalkInstance } from 'chalk';
import { redact } from '../redact.js';
import { jsonText } from './json-text.js';
import { cleanField } from './sanitize.js';
import { displayWidth } from './width.js';

export type Writable = { write(text: string): unknown; isTTY?: boolean; columns?: number };

export type Output = {
  readonly chalk: ChalkInstance;
  /** A line for the person. */
  line(text: string): void;
  /** Detail for --verbose only (dimmed; never with --json or --quiet). */
  debug(text: string): void;
  /** A machine-readable event (only with --json): `t` (ms since start) added when absent, milliseconds to 0.1. */
  json(event: Record<string, unknown>): void;
  /** Milliseconds since the output was created (the `t` of --json events). */
  elapsedMs(): number;
  /** An error a person can act on: what happened, then what to do. */
  error(message: string, hint?: string): void;
  /** A warning that must reach the person even with --json or --quiet (then on stderr): `warning: ` is prefixed. */
  warn(text: string): void;
  /** A log line that is a warning (already worded and coloured): the person's stream, or stderr under --json / --quiet. */
  warnLine(text: string): void;
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
  /** Colour on stderr, which has its own terminal or file (default: `color`). */
  errorColor?: boolean;
  quiet: boolean;
  verbose?: boolean;
  /** The environment, for TERM=dumb and CI (no live screen). */
  env?: NodeJS.ProcessEnv;
  /** Monotonic clock in ms (tests pass their own). */
  now?: () => number;
};

export function createOutput(options: OutputOptions): Output {
  const human = options.json ? options.stderr : options.stdout;
  const chalk = new Chalk({ level: options.color ? 1 : 0 });
  const dumb = options.env?.TERM === 'dumb';
  // A CI job's log is a file even when the job runs on a pseudo-terminal: a spinner there is noise.
  const ci = !['', '0', 'false', undefined].includes(options.env?.CI);
  const now = options.now ?? (() => performance.now());
  const startedAt = now();
  // Colour is decided for the person's stream; stderr redirected to a file gets none.
  const errorColor = options.errorColor ?? options.color;
  const writeErr = (text: string): unknown => options.stderr.write(errorColor ? text : stripVTControlCharacters(text));
  const elapsedMs = (): number => now() - startedAt;
  return {
    elapsedMs,
    chalk,
    jsonMode: options.json,
    stream: human,
    interactive: !options.json && !options.quiet && !dumb && !ci && human.isTTY === true,
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
      const stamped = 't' in event ? event : { t: elapsedMs(), ...event };
      options.stdout.write(jsonText(stamped, { replacer: roundMs }) + '\n');
    },
    warn(text) {
      const stream = options.json || options.quiet ? options.stderr : human;
      const line = `warning: ${cleanField(text)}`;
      const lines = stream.isTTY === true && stream.columns ? wrapWords(line, stream.columns) : [line];
      const out = redact(chalk.yellow(lines.join('\n'))) + '\n';
      if (stream === human) human.write(out);
      else writeErr(out);
    },
    warnLine(text) {
      if (options.json || options.quiet) writeErr(redact(text) + '\n');
      else human.write(redact(text) + '\n');
    },
    error(message, hint) {
      // Messages may carry server text (a close reason, an error message): cleaned like every log line.
      const lines = [chalk.red(`error: ${cleanField(message)}`)];
      if (hint) lines.push(chalk.dim(cleanField(hint)));
      writeErr(redact(lines.join('\n')) + '\n');
    },
  };
}

/** Colour is on for a TTY unless NO_COLOR is set, --no-color was given or TERM=dumb (it prints escapes as text). */
export function wantsColor(stream: Writable, env: NodeJS.ProcessEnv, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** JSON.stringify replacer: `t` and every `…Ms` / `…_ms` number rounded to 0.1 ms. */
function roundMs(key: string, value: unknown): unknown {
  if (typeof value !== 'number' || !(key === 't' || /(Ms|_ms)$/.test(key))) return value;
  return Math.round(value * 10) / 10;
}

/**
 * Breaks text into lines of at most `width` visible characters at spaces (a word longer than the
 * width stays whole); continuation lines are indented by `indent` spaces.
 */
export function wrapWords(text: string, width: number, indent = 2): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (line !== '' && displayWidth(candidate) > width) {
      lines.push(line);
      line = `${' '.repeat(indent)}${word}`;
    } else {
      line = candidate;
    }
  }
  lines.push(line);
  return lines;
}
