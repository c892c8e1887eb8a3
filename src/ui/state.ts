/**
 * The screen's model: everything the terminal shows, as plain data, and a pure step function that
 * folds chat events (and key presses) into it. No I/O and no clock here: callers pass `now`.
 * render.ts turns this state into text; view.ts / terminal.ts write it.
 */
import type { ChatEvent } from '../chat.js';
import type { TurnMetric } from '../metrics.js';
import type { Phase } from '../session.js';
import { modelInfo } from '../models.js';
import { redact } from '../redact.js';
import { stripControls } from './sanitize.js';

/** What the status line says the conversation is doing. */
export type Activity = 'starting' | 'connecting' | 'reconnecting' | 'retrying' | Exclude<Phase, 'ended'> | 'ending';

export type HeaderInfo = {
  model: string;
  voice: string | undefined;
  /** Endpoint, key already redacted. */
  url: string;
  tools: readonly string[];
  mock: boolean;
  sessionId?: string;
  outputRate?: number;
  /** Tools the server confirmed in session.configured / session.updated. */
  serverTools?: number;
};

/** A tool call as it happens: arguments stream in, then it runs. */
export type ToolActivity = { callId: string; name: string; args: string; status: 'streaming' | 'running'; since: number };

/** One line of the log, already decided; `tone` picks the colour at render time. */
export type LogEntry = { at: number; kind: LogKind; text: string; detail?: string };
export type LogKind =
  | 'info'
  | 'dim'
  | 'you'
  | 'hydra'
  | 'turn'
  | 'tool'
  | 'tool-ok'
  | 'tool-error'
  | 'interrupt'
  | 'warning'
  | 'error'
  | 'frame';

export type UiState = Readonly<{
  header: HeaderInfo;
  activity: Activity;
  /** Connection attempt (0 = first). */
  attempt: number;
  /** While waiting to reconnect: why, and the (same clock as `now`) time the next attempt starts. */
  retry: { why: 'server-full' | 'rate-limited' | 'dropped'; until: number; message: string } | null;
  muted: boolean;
  inputDb: number;
  outputDb: number;
  /** Model audio is playing locally (the sink is not idle). */
  playing: boolean;
  tools: readonly ToolActivity[];
  /** Assistant transcript of the response in progress (deltas joined). */
  transcript: string;
  /** The response whose interruption was already logged (so the `interrupted` note adds nothing). */
  interruptLogged: string | null;
  stats: Readonly<{ v2v: readonly number[]; turns: number; toolCalls: number; toolErrors: number; interruptions: number; tokens: number; noise: number }>;
  startedAt: number;
  verbose: boolean;
  /** Responses started so far, whether the user has finished a turn yet, and the greeting's response id. */
  responses: number;
  userSpoke: boolean;
  greeting: string | null;
  /** --verbose: consecutive audio frames are folded into one line. */
  audioRun: { direction: 'in' | 'out'; type: string; count: number; bytes: number; at: number } | null;
}>;

export type Step = { state: UiState; log: LogEntry[] };

export function initialUiState(header: HeaderInfo, options: { now: number; verbose: boolean }): UiState {
  return {
    header,
    activity: 'starting',
    attempt: 0,
    retry: null,
    muted: false,
    inputDb: -100,
    outputDb: -100,
    playing: false,
    tools: [],
    transcript: '',
    interruptLogged: null,
    stats: { v2v: [], turns: 0, toolCalls: 0, toolErrors: 0, interruptions: 0, tokens: 0, noise: 0 },
    startedAt: options.now,
    verbose: options.verbose,
    audioRun: null,
    responses: 0,
    userSpoke: false,
    greeting: null,
  };
}

/** Folds one chat event into the state; returns the log lines it produces. */
export function stepEvent(state: UiState, event: ChatEvent, now: number): Step {
  const log: LogEntry[] = [];
  let next = state;
  if (event.type !== 'frame' && state.audioRun !== null && state.verbose) {
    // keep the folded audio line in order with what follows it
    log.push(audioRunEntry(state.audioRun));
    next = { ...next, audioRun: null };
  }
  const result = stepInner(next, event, now);
  return { state: result.state, log: [...log, ...result.log] };
}

function stepInner(state: UiState, event: ChatEvent, now: number): Step {
  const entry = (kind: LogKind, text: string, detail?: string): LogEntry => ({ at: now, kind, text, ...(detail === undefined ? {} : { detail }) });
  switch (event.type) {
    case 'connection': {
      const detail = event.detail;
      switch (detail.status) {
        case 'connecting':
          return {
            state: { ...state, activity: detail.attempt === 0 ? 'connecting' : 'reconnecting', attempt: detail.attempt, retry: null, tools: [], transcript: '' },
            log: [entry('dim', detail.attempt === 0 ? `connecting to ${state.header.url}` : `reconnecting (attempt ${detail.attempt + 1})`)],
          };
        case 'connected':
          return {
            state: { ...state, activity: 'configuring', header: { ...state.header, sessionId: detail.sessionId } },
            log: [entry('dim', `connected · session ${detail.sessionId}`)],
          };
        case 'retrying': {
          const message = retryWhy(detail.why, detail.error.message);
          return {
            state: { ...state, activity: 'retrying', retry: { why: detail.why, until: now + detail.inMs, message }, tools: [] },
            log: [entry('warning', `${message} · retrying in ${seconds(detail.inMs)} (attempt ${detail.attempt + 1})`)],
          };
        }
        case 'phase': {
          const activity = detail.phase === 'ended' ? 'ending' : detail.phase;
          return { state: { ...state, activity }, log: [] };
        }
      }
      return { state, log: [] };
    }
    case 'metric':
      return { state: withStats(state, { v2v: [...state.stats.v2v, event.metric.v2vMs], turns: event.turn }), log: [metricEntry(event.metric, now)] };
    case 'played': {
      const interrupted = event.reason === 'speech-started' || event.reason === 'key';
      if (!interrupted) return { state, log: [] };
      if (event.droppedMs <= 0) {
        // Nothing was left to drop: the reply had already finished playing.
        return { state, log: event.reason === 'key' ? [entry('dim', 'nothing to interrupt')] : [] };
      }
      const who = event.reason === 'key' ? 'you interrupted' : 'you interrupted (barge-in)';
      return {
        state: { ...withStats(state, { interruptions: state.stats.interruptions + 1 }), interruptLogged: event.responseId, playing: false },
        log: [entry('interrupt', `${who}${typeof event.silentAfterMs === 'number' ? ` · silent after ${event.silentAfterMs} ms` : ''} · ${seconds(event.droppedMs)} of reply dropped`, `${seconds(event.playedMs)} played`)],
      };
    }
    case 'frame':
      return stepFrame(state, event, now);
    case 'note':
      return stepNote(state, event.note, now);
  }
}

function stepNote(state: UiState, note: Extract<ChatEvent, { type: 'note' }>['note'], now: number): Step {
  const entry = (kind: LogKind, text: string, detail?: string): LogEntry => ({ at: now, kind, text, ...(detail === undefined ? {} : { detail }) });
  switch (note.kind) {
    case 'warning':
      return {
        state,
        log: [entry('warning', `warning: ${plainWarning(note.code, note.message)}${note.code === 'model_deprecated' ? migrationHint(state.header.model) : ''}`)],
      };
    case 'server-error':
      return { state, log: [entry('error', `server error: ${plainError(note.code, note.message)}`, `${note.code}${note.param ? ` · ${note.param}` : ''}`)] };
    case 'configured':
      return {
        state: {
          ...state,
          activity: 'listening',
          header: { ...state.header, outputRate: note.outputSampleRate, serverTools: note.tools, ...(note.voice === undefined ? {} : { voice: note.voice }) },
        },
        log: [entry('dim', `configured · voice ${note.voice ?? state.header.voice ?? 'default'} · output ${note.outputSampleRate} Hz · ${plural(note.tools, 'tool')}`)],
      };
    case 'tools-updated':
      return { state: { ...state, header: { ...state.header, serverTools: note.tools } }, log: [entry('info', `tools updated on the server (${plural(note.tools, 'tool')})`)] };
    case 'speech-started':
      return { state, log: state.verbose ? [entry('you', 'speaking…')] : [] };
    case 'speech-stopped':
      return { state: { ...state, userSpoke: true }, log: [entry('you', '(turn ended)')] };
    case 'noise-discarded':
      return { state: withStats(state, { noise: state.stats.noise + 1 }), log: [entry('dim', 'noise ignored · the server discarded that turn')] };
    case 'response-started':
      // The model speaking before the user said anything is the greeting (--greet).
      return {
        state: { ...state, transcript: '', responses: state.responses + 1, greeting: state.responses === 0 && !state.userSpoke ? note.responseId : state.greeting },
        log: state.verbose ? [entry('dim', `response ${note.responseId} started`)] : [] };
    case 'response-done': {
      const log: LogEntry[] = [];
      if (state.transcript.trim() !== '') log.push(entry('hydra', `“${state.transcript.trim()}”${note.status === 'completed' ? '' : '…'}`));
      const tokens = note.usage?.total_tokens ?? (note.usage ? (note.usage.input_tokens ?? 0) + (note.usage.output_tokens ?? 0) : undefined);
      const usage = note.usage === undefined ? '' : usageText(note.usage);
      if (note.status === 'completed') {
        if (note.responseId === state.greeting && log.length === 0) log.push(entry('hydra', 'greeting'));
        if (usage !== '' || state.verbose) log.push(entry('dim', `response done${usage === '' ? '' : ` · ${usage}`}`));
      } else if (note.status === 'cancelled') {
        // An interruption the log already told about, or the server's own cancel: quiet detail.
        log.push(entry('dim', `reply cancelled${note.reason ? ` (${note.reason.replace(/_/g, ' ')})` : ''}${usage === '' ? '' : ` · ${usage}`}`));
      } else {
        log.push(entry('warning', `response ${note.status}${note.reason ? ` (${note.reason.replace(/_/g, ' ')})` : ''}${usage === '' ? '' : ` · ${usage}`}`));
      }
      return { state: { ...withStats(state, { tokens: state.stats.tokens + (tokens ?? 0) }), transcript: '' }, log };
    }
    case 'interrupted': {
      if (state.interruptLogged === note.responseId) return { state, log: [] };
      // Cancelled before any of its audio played.
      return {
        state: { ...withStats(state, { interruptions: state.stats.interruptions + 1 }), interruptLogged: note.responseId },
        log: [entry('interrupt', note.by === 'key' ? 'you interrupted · the reply had not started playing' : 'you interrupted (barge-in) · before the reply played')],
      };
    }
    case 'tool-args': {
      const existing = state.tools.find((tool) => tool.callId === note.callId);
      const tool: ToolActivity = { callId: note.callId, name: note.name || existing?.name || '?', args: note.argumentsText, status: 'streaming', since: existing?.since ?? now };
      return { state: { ...state, tools: upsert(state.tools, tool) }, log: state.verbose ? [entry('dim', `tool ${tool.name} ◂ ${truncate(note.argumentsText, 80)}`)] : [] };
    }
    case 'tool-call': {
      const tool: ToolActivity = { callId: note.callId, name: note.name, args: note.argumentsText, status: 'running', since: now };
      return {
        state: { ...withStats(state, { toolCalls: state.stats.toolCalls + 1 }), tools: upsert(state.tools, tool) },
        log: [entry('tool', `tool ${note.name}(${truncate(note.argumentsText, 100)})`)],
      };
    }
    case 'tool-result': {
      const tools = state.tools.filter((tool) => tool.callId !== note.callId);
      const errors = state.stats.toolErrors + (note.ok ? 0 : 1);
      return {
        state: { ...withStats(state, { toolErrors: errors }), tools },
        log: [entry(note.ok ? 'tool-ok' : 'tool-error', `tool ${note.name} ${note.ok ? '✓' : '✗'} ${ms(note.durationMs)} → ${truncate(note.output, 120)}`)],
      };
    }
    case 'transcript': {
      if (note.role === 'user') return { state, log: [entry('you', `“${note.text.trim()}”`)] };
      // Deltas are joined; the full text in conversation.item.done repeats them and is not added twice.
      const sofar = state.transcript;
      if (sofar !== '' && note.text.trim() === sofar.trim()) return { state, log: [] };
      return { state: { ...state, transcript: sofar + note.text }, log: [] };
    }
    case 'anomaly':
      return { state, log: [entry('warning', `note: ${note.message}`)] };
  }
}

function stepFrame(state: UiState, event: Extract<ChatEvent, { type: 'frame' }>, now: number): Step {
  if (!state.verbose) return { state, log: [] };
  const type = String(event.frame.type);
  const audio = type === 'input_audio_buffer.append' || type === 'response.output_audio.delta';
  const run = state.audioRun;
  if (audio) {
    const bytes = audioBytes(event.frame);
    if (run !== null && run.type === type && run.direction === event.direction) {
      return { state: { ...state, audioRun: { ...run, count: run.count + 1, bytes: run.bytes + bytes } }, log: [] };
    }
    const log = run === null ? [] : [audioRunEntry(run)];
    return { state: { ...state, audioRun: { direction: event.direction, type, count: 1, bytes, at: event.at } }, log };
  }
  const log: LogEntry[] = run === null ? [] : [audioRunEntry(run)];
  const { type: _type, ...rest } = event.frame;
  const body = Object.keys(rest).length === 0 ? '' : ` ${truncate(JSON.stringify(rest), 100)}`;
  log.push({ at: now, kind: 'frame', text: `${event.direction === 'in' ? '←' : '→'} ${time(event.at)} ${type}${body}` });
  return { state: { ...state, audioRun: null }, log };
}

/** The folded line for a run of audio frames (audio elided). */
function audioRunEntry(run: NonNullable<UiState['audioRun']>): LogEntry {
  const count = run.count > 1 ? ` ×${run.count}` : '';
  return { at: run.at, kind: 'frame', text: `${run.direction === 'in' ? '←' : '→'} ${time(run.at)} ${run.type}${count} (${run.bytes} bytes of audio)` };
}

function audioBytes(frame: Record<string, unknown>): number {
  const value = frame.audio ?? frame.delta;
  const match = typeof value === 'string' ? /^<(\d+) bytes>$/.exec(value) : null;
  if (match) return Number(match[1]);
  return typeof value === 'string' ? Math.floor((value.length * 3) / 4) : 0;
}

/** Flushes a pending folded audio line (at the end of a run). */
export function flushLog(state: UiState): Step {
  if (state.audioRun === null) return { state, log: [] };
  return { state: { ...state, audioRun: null }, log: [audioRunEntry(state.audioRun)] };
}

export function setMuted(state: UiState, muted: boolean, now: number): Step {
  return {
    state: { ...state, muted },
    log: [{ at: now, kind: muted ? 'warning' : 'info', text: muted ? 'muted · the mic sends silence until you press m again' : 'unmuted' }],
  };
}

export function setLevels(state: UiState, levels: { inputDb: number; outputDb: number; playing?: boolean }): UiState {
  return { ...state, inputDb: levels.inputDb, outputDb: levels.outputDb, playing: levels.playing ?? state.playing };
}

export function setTools(state: UiState, tools: readonly string[]): UiState {
  return { ...state, header: { ...state.header, tools } };
}

function withStats(state: UiState, patch: Partial<UiState['stats']>): UiState {
  return { ...state, stats: { ...state.stats, ...patch } };
}

function upsert(tools: readonly ToolActivity[], tool: ToolActivity): readonly ToolActivity[] {
  const index = tools.findIndex((entry) => entry.callId === tool.callId);
  if (index === -1) return [...tools, tool];
  return tools.map((entry, i) => (i === index ? tool : entry));
}

function metricEntry(metric: TurnMetric, now: number): LogEntry {
  if (metric.kind === 'plain') return { at: now, kind: 'turn', text: `replying · V2V ${ms(metric.v2vMs)}` };
  const t = metric.tool;
  return {
    at: now,
    kind: 'turn',
    text: `replying after tools · V2V ${ms(metric.v2vMs)}`,
    detail: `args start ${ms(t.argsStartMs)} · args done ${ms(t.argsDoneMs)} · tool ${ms(t.toolRunMs)} · narration ${ms(t.narrationStartMs)}`,
  };
}

function retryWhy(why: 'server-full' | 'rate-limited' | 'dropped', message: string): string {
  if (why === 'server-full') return 'server full';
  if (why === 'rate-limited') return 'rate limited';
  return message;
}

function usageText(usage: { input_tokens?: number | undefined; output_tokens?: number | undefined; total_tokens?: number | undefined }): string {
  const parts: string[] = [];
  if (usage.input_tokens !== undefined) parts.push(`${usage.input_tokens} in`);
  if (usage.output_tokens !== undefined) parts.push(`${usage.output_tokens} out`);
  const total = usage.total_tokens ?? (parts.length ? (usage.input_tokens ?? 0) + (usage.output_tokens ?? 0) : undefined);
  if (total === undefined) return '';
  return parts.length ? `${total} tokens (${parts.join(', ')})` : `${total} tokens`;
}

/** Server `error` codes in plain words (hydra-protocol §6); unknown codes fall back to the server's message. */
const ERROR_WORDS: Readonly<Record<string, string>> = {
  tool_response_timeout: 'the server stopped waiting for a tool result (the tool took too long)',
  invalid_frame: 'the server could not read a frame hydra-chat sent',
  invalid_request_error: 'the server rejected a request from hydra-chat',
  invalid_audio: 'the server rejected an audio frame',
  server_full: 'the server is at capacity',
  rate_limit_exceeded: 'too many requests; slow down',
};

export function plainError(code: string, message: string): string {
  const words = ERROR_WORDS[code];
  if (words === undefined) return message || code.replace(/_/g, ' ');
  return message ? `${words} — ${message}` : words;
}

/** For model_deprecated: the flag and voices to migrate to. */
export function migrationHint(model: string): string {
  const info = modelInfo(model);
  if (!info?.migrateTo) return '';
  // One short line: the rosters are in `hydra-chat voices`, not spelled out here.
  return ` — migrate with --model ${info.migrateTo} and one of its voices (hydra-chat voices)`;
}

export function plainWarning(code: string, message: string): string {
  return message || code.replace(/_/g, ' ');
}

export function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

export function seconds(valueMs: number): string {
  return `${(valueMs / 1000).toFixed(1)} s`;
}

/** Session time as m:ss.s */
export function time(valueMs: number): string {
  const total = Math.max(0, valueMs) / 1000;
  const minutes = Math.floor(total / 60);
  const rest = total - minutes * 60;
  return `${minutes}:${rest.toFixed(1).padStart(4, '0')}`;
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** One line of at most `max` characters; cleaned and redacted first, so the cut never leaves part of a key. */
export function truncate(text: string, max: number): string {
  const flat = redact(stripControls(text)).replace(/\s+/g, ' ');
  if (flat.length <= max) return flat;
  let end = Math.max(0, max - 1);
  // Never half of a surrogate pair (an emoji): a lone one is drawn as �.
  if (end > 0 && /[\ud800-\udbff]/.test(flat[end - 1]!)) end -= 1;
  return `${flat.slice(0, end)}…`;
}
