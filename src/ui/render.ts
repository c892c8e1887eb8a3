/**
 * Pure rendering: chat events → the lines a person reads. Takes a chalk instance so tests can
 * render without colour. No I/O here; ui/terminal.ts writes.
 */
import type { ChalkInstance } from 'chalk';
import type { ChatEvent } from '../chat.js';
import type { Note } from '../session.js';
import { modelInfo } from '../models.js';

export type RenderOptions = { chalk: ChalkInstance; verbose: boolean; model: string };

/** One log line for an event, or null when the event is not worth a line at this verbosity. */
export function renderEvent(event: ChatEvent, options: RenderOptions): string | null {
  const { chalk } = options;
  switch (event.type) {
    case 'connection':
      return renderConnection(event.detail, options);
    case 'note':
      return renderNote(event.note, options);
    case 'metric': {
      const metric = event.metric;
      if (metric.kind === 'plain') return `${chalk.green('hydra')}  ▸ replying · V2V ${ms(metric.v2vMs)}`;
      const t = metric.tool;
      return (
        `${chalk.green('hydra')}  ▸ replying after tools · V2V ${ms(metric.v2vMs)} ` +
        chalk.dim(`(args start ${ms(t.argsStartMs)}, args done ${ms(t.argsDoneMs)}, tool ${ms(t.toolRunMs)}, narration ${ms(t.narrationStartMs)})`)
      );
    }
    case 'played':
      if (event.reason === 'speech-started' || event.reason === 'key') {
        return chalk.yellow(`you interrupted · ${seconds(event.droppedMs)} of reply dropped (${seconds(event.playedMs)} played)`);
      }
      return null;
    case 'frame':
      if (!options.verbose) return null;
      return chalk.dim(`${event.direction === 'in' ? '←' : '→'} ${String(event.frame.type)} ${ms(event.at)}`);
  }
}

function renderConnection(detail: Extract<ChatEvent, { type: 'connection' }>['detail'], options: RenderOptions): string | null {
  const { chalk } = options;
  switch (detail.status) {
    case 'connecting':
      return detail.attempt === 0 ? chalk.dim('connecting…') : chalk.dim(`reconnecting (attempt ${detail.attempt + 1})…`);
    case 'connected':
      return chalk.dim(`session ${detail.sessionId}`);
    case 'retrying': {
      const what = detail.why === 'server-full' ? 'server full' : detail.why === 'rate-limited' ? 'rate limited' : detail.error.message;
      return chalk.yellow(`${what} · retrying in ${seconds(detail.inMs)}`);
    }
    case 'phase':
      return null;
  }
}

/** The line for a session note; exported for the scenario report. */
export function renderNote(note: Note, options: RenderOptions): string | null {
  const { chalk } = options;
  switch (note.kind) {
    case 'warning':
      return chalk.yellow(`warning: ${note.message || note.code}${note.code === 'model_deprecated' ? migrationHint(options.model) : ''}`);
    case 'server-error':
      return chalk.red(`server error ${note.code}${note.param ? ` (${note.param})` : ''}: ${note.message}`);
    case 'configured':
      return chalk.dim(`configured · voice ${note.voice ?? 'default'} · output ${note.outputSampleRate} Hz · ${note.tools} tool(s)`);
    case 'tools-updated':
      return chalk.cyan(`tools updated on the server (${note.tools})`);
    case 'speech-started':
      return options.verbose ? chalk.blue('you    ▸ speaking…') : null;
    case 'speech-stopped':
      return chalk.blue('you    ▸ (turn ended)');
    case 'noise-discarded':
      return chalk.dim('(noise ignored: no turn)');
    case 'response-started':
      return options.verbose ? chalk.dim(`response ${note.responseId} started`) : null;
    case 'response-done': {
      if (note.status === 'completed') {
        const usage = note.usage?.total_tokens === undefined ? '' : chalk.dim(` · ${note.usage.total_tokens} tokens`);
        return options.verbose || usage ? chalk.dim(`response done`) + usage : null;
      }
      return chalk.yellow(`response ${note.status}${note.reason ? ` (${note.reason})` : ''}`);
    }
    case 'interrupted':
      return null; // the 'played' event says how much was dropped
    case 'tool-args':
      return options.verbose ? chalk.dim(`tool ${note.name || '?'} ◂ ${truncate(note.argumentsText, 80)}`) : null;
    case 'tool-call':
      return chalk.magenta(`tool ${note.name}(${truncate(note.argumentsText, 100)})`);
    case 'tool-result': {
      const mark = note.ok ? chalk.green('✓') : chalk.red('✗');
      return `${chalk.magenta(`tool ${note.name}`)} ${mark} ${ms(note.durationMs)} → ${truncate(note.output, 120)}`;
    }
    case 'transcript':
      return `${note.role === 'user' ? chalk.blue('you   ') : chalk.green('hydra ')} ▸ ${note.text}`;
    case 'anomaly':
      return chalk.yellow(`note: ${note.message}`);
  }
}

function migrationHint(model: string): string {
  const info = modelInfo(model);
  if (!info?.migrateTo) return '';
  const target = modelInfo(info.migrateTo);
  return ` — migrate with --model ${info.migrateTo}${target ? ` and a voice from: ${target.voices.join(', ')}` : ''}`;
}

export function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

export function seconds(valueMs: number): string {
  return `${(valueMs / 1000).toFixed(1)} s`;
}

export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
