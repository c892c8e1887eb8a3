/**
 * Pure rendering: screen state → the text a person reads. Takes a chalk instance so tests can
 * render without colour, and `now` / `width` so nothing here reads a clock or a terminal.
 * view.ts (plain lines) and terminal.ts (the live TTY screen) write what these return.
 * This is the boundary where text from the server or the model meets the terminal: every such
 * string is cleaned and capped here (sanitize.ts) before colour is added.
 */
import type { ChalkInstance } from 'chalk';
import type { ChatOutcome } from '../chat.js';
import { summarize } from '../metrics.js';
import { cleanField, MAX_FIELD_CHARS } from './sanitize.js';
import { charWidth, displayWidth } from './width.js';
import { plural, seconds, time, truncate, type LogEntry, type UiState } from './state.js';

/** Key help, one line per key. */
const KEYS: readonly (readonly [string, string])[] = [
  ['m', 'mute / unmute the microphone (silence keeps streaming)'],
  ['space', 'interrupt the model now'],
  ['q', 'quit (Ctrl-C too)'],
  ['?', 'this help'],
];

/** The header: what this session talks to. */
export function renderHeader(state: UiState, chalk: ChalkInstance): string[] {
  const { header } = state;
  const parts = [`model ${header.model}`, `voice ${header.voice ?? 'default'}`, `${header.url}${header.mock ? ' (simulator)' : ''}`].map((part) => cleanField(part));
  const lines = [`${chalk.bold('hydra-chat')} ${chalk.dim('·')} ${parts.join(chalk.dim(' · '))}`];
  if (header.tools.length > 0) lines.push(`${chalk.dim('tools')} ${cleanField(header.tools.join(', '))}`);
  return lines;
}

/** Transcripts are the conversation itself: they get a longer cap than other fields. */
const TRANSCRIPT_CHARS = 4 * MAX_FIELD_CHARS;

/** One log line. `timestamps` prefixes the session time (the live screen does; plain output does not). */
export function renderLogEntry(entry: LogEntry, options: { chalk: ChalkInstance; startedAt: number; timestamps: boolean }): string {
  const { chalk } = options;
  // Log lines carry server and model text (errors, warnings, transcripts, tool names and arguments).
  const text = cleanField(entry.text, entry.kind === 'you' || entry.kind === 'hydra' ? TRANSCRIPT_CHARS : MAX_FIELD_CHARS);
  const detail = entry.detail === undefined ? '' : ` ${chalk.dim(`(${cleanField(entry.detail)})`)}`;
  let body: string;
  switch (entry.kind) {
    case 'you':
      body = `${chalk.blue('you    ▸')} ${text}`;
      break;
    case 'hydra':
    case 'turn':
      body = `${chalk.green('hydra  ▸')} ${text}`;
      break;
    case 'tool':
      body = chalk.magenta(text);
      break;
    case 'tool-ok':
    case 'tool-error': {
      const mark = entry.kind === 'tool-ok' ? '✓' : '✗';
      const [head, ...rest] = text.split(` ${mark} `);
      body = `${chalk.magenta(head)} ${entry.kind === 'tool-ok' ? chalk.green(mark) : chalk.red(mark)} ${rest.join(` ${mark} `)}`;
      break;
    }
    case 'interrupt':
    case 'warning':
      body = chalk.yellow(text);
      break;
    case 'error':
      body = chalk.red(text);
      break;
    case 'dim':
    case 'frame':
      body = chalk.dim(text);
      break;
    case 'info':
      body = text;
      break;
  }
  const prefix = options.timestamps ? `${chalk.dim(time(entry.at - options.startedAt).padStart(6))} ` : '';
  return `${prefix}${body}${detail}`;
}

/** What the status line says, without the spinner glyph. */
export function statusLabel(state: UiState, now: number): string {
  switch (state.activity) {
    case 'starting':
      return 'starting';
    case 'connecting':
      return 'connecting';
    case 'reconnecting':
      return `reconnecting (attempt ${state.attempt + 1})`;
    case 'retrying': {
      const left = state.retry ? Math.max(0, Math.ceil((state.retry.until - now) / 1000)) : 0;
      return `${state.retry?.message ?? 'disconnected'} · retrying in ${left} s`;
    }
    case 'configuring':
      return 'configuring';
    case 'user-speaking':
      return "you're speaking";
    case 'listening':
      return state.playing ? 'speaking' : 'listening';
    case 'thinking':
      return state.playing ? 'speaking' : 'thinking';
    case 'responding':
      return 'speaking';
    case 'running-tool': {
      const tool = state.tools.at(-1);
      if (!tool) return 'running tool';
      if (tool.status === 'streaming') return `running tool ${tool.name} ◂ ${truncate(tool.args, 40)}`;
      return `running tool ${tool.name} · ${seconds(now - tool.since)}`;
    }
    case 'ending':
      return 'ending';
  }
}

/** A level meter: `cells` wide, -60 dBFS (empty) to 0 dBFS (full). */
export function renderMeter(db: number, cells: number): string {
  const fraction = Math.min(1, Math.max(0, (db + 60) / 60));
  const full = Math.round(fraction * cells);
  return '█'.repeat(full) + '·'.repeat(cells - full);
}

function dbText(db: number): string {
  return db <= -99 ? '  -∞ dB' : `${String(Math.round(db)).padStart(4)} dB`;
}

const METER_CELLS = 12;

/** The live status line (after the spinner): activity, mic and speaker meters, MUTED, elapsed time. */
export function renderStatus(state: UiState, options: { chalk: ChalkInstance; now: number; width: number }): string {
  const { chalk, now } = options;
  const mic = state.muted
    ? `${chalk.bold('mic')} ${chalk.inverse.red(' MUTED '.padEnd(METER_CELLS))}${' '.repeat(8)}`
    : `${chalk.bold('mic')} ${chalk.blue(renderMeter(state.inputDb, METER_CELLS))} ${chalk.dim(dbText(state.inputDb))}`;
  const out = `${chalk.bold('out')} ${chalk.green(renderMeter(state.outputDb, METER_CELLS))} ${chalk.dim(dbText(state.outputDb))}`;
  const clock = chalk.dim(time(now - state.startedAt).replace(/\.\d$/, ''));
  const right = `${mic}  ${out}  ${clock}`;
  const labelWidth = Math.max(8, options.width - 2 - visibleLength(right) - 2);
  const label = cleanField(statusLabel(state, now));
  const labelColumns = displayWidth(label);
  const shown = labelColumns > labelWidth ? fit(label, labelWidth) : label + ' '.repeat(Math.max(0, Math.min(labelWidth, 28) - labelColumns));
  const colour = state.activity === 'retrying' || state.activity === 'reconnecting' ? chalk.yellow : state.activity === 'running-tool' ? chalk.magenta : chalk.bold;
  return fit(`${colour(shown)}  ${right}`, options.width - 2);
}

/** The line under the status: the session at a glance and the keys. */
export function renderInfo(state: UiState, options: { chalk: ChalkInstance; width: number }): string {
  const { header } = state;
  const parts = [header.model, `voice ${header.voice ?? 'default'}`];
  if (header.sessionId) parts.push(`session ${header.sessionId.slice(0, 8)}`);
  if (header.outputRate) parts.push(`${header.outputRate / 1000} kHz out`);
  parts.push(header.tools.length ? `tools: ${header.tools.join(', ')}` : 'no tools');
  const keys = 'm mute · space interrupt · q quit · ? help';
  return options.chalk.dim(fit(`  ${cleanField(parts.join(' · '))}  │  ${keys}`, options.width - 1));
}

/** The exit summary. */
export function renderSummary(state: UiState, outcome: ChatOutcome, extra: { recordingPath?: string; now: number; chalk: ChalkInstance }): string {
  const { stats } = state;
  const latency = summarize(stats.v2v);
  const parts = [
    seconds(extra.now - state.startedAt),
    plural(Math.max(outcome.turns, stats.turns), 'turn'),
    latency.count ? `V2V median ${Math.round(latency.medianMs!)} ms, max ${Math.round(latency.maxMs!)} ms` : 'no measured turns',
    plural(stats.toolCalls, 'tool call') + (stats.toolErrors ? ` (${stats.toolErrors} failed)` : ''),
    plural(stats.interruptions, 'interruption'),
  ];
  if (stats.tokens > 0) parts.push(`${stats.tokens} tokens`);
  if (extra.recordingPath) parts.push(`recording: ${cleanField(extra.recordingPath)}`);
  return `${extra.chalk.bold('summary')} ${extra.chalk.dim('·')} ${parts.join(extra.chalk.dim(' · '))}`;
}

export function renderHelp(chalk: ChalkInstance): string[] {
  return ['keys:', ...KEYS.map(([key, what]) => `  ${chalk.bold(key.padEnd(6))} ${what}`)];
}

/** Terminal columns of a (possibly coloured) line: wide characters count two. */
export function visibleLength(text: string): number {
  return displayWidth(text);
}

/** Cuts a (possibly coloured) line to `width` terminal columns, never inside a character. */
export function fit(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  let previous = 0;
  let index = 0;
  while (index < text.length) {
    const match = text.startsWith('\x1b', index) ? /^\x1b\[[0-9;?]*[A-Za-z]/.exec(text.slice(index)) : null;
    if (match) {
      out += match[0];
      index += match[0].length;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(index)!);
    const columns = charWidth(char, previous);
    // One column stays free for the ellipsis.
    if (used + columns > width - 1) break;
    out += char;
    index += char.length;
    used += columns;
    previous = columns;
  }
  return `${out}…${text.includes('\x1b') ? '\x1b[0m' : ''}`;
}
