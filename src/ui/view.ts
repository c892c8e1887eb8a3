/**
 * The chat's screen: what the person sees and the keys they press.
 *
 * On a real terminal (Output.interactive): a header, a scrolling log, and under it a live ora
 * status line with level meters and an info line, redrawn ten times a second, while the terminal
 * has room for them. Anywhere else (piped, CI, --quiet, too small): one plain line per event. Either way the
 * state is folded by ui/state.ts and turned into text by ui/render.ts (pure); this module only
 * writes, ticks and reads keys. Raw mode and the cursor are restored on close and on process exit.
 */
import { performance } from 'node:perf_hooks';
import type { ChatEvent, ChatOutcome } from '../chat.js';
import { atExit } from '../exit-hooks.js';
import { redact } from '../redact.js';
import { wrapWords, type Output, type Writable } from './output.js';
import { renderHeader, renderHelp, renderInfo, renderLogEntry, renderStatus, renderSummary } from './render.js';
import { flushLog, initialUiState, setLevels, setMuted, setTools, stepEvent, type LogEntry, type UiState } from './state.js';
import type { LiveScreen, startLiveScreen } from './terminal.js';

export type ViewHeader = { model: string; voice: string | undefined; url: string; tools: readonly string[]; mock: boolean };

/** What the view can ask the chat to do. */
export type ViewControls = {
  interrupt(): void;
  /** Flips mute; returns whether the mic is now muted. */
  toggleMute(): boolean;
  quit(): void;
  /** A second Ctrl-C while quitting: end now (exit 130), as a second SIGINT does. */
  quitNow?(): void;
  /** Current levels in dBFS (-100 = silence), and whether model audio is playing right now. */
  levels(): { inputDb: number; outputDb: number; playing?: boolean };
};

export type KeyInput = {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  off(event: 'data', listener: (data: Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
};

export type ViewOptions = {
  out: Output;
  input: KeyInput | null;
  verbose: boolean;
  header: ViewHeader;
  /**
   * Draws the live screen on a real terminal: ui/terminal.ts's startLiveScreen, passed in so that ora
   * is only loaded when there is a terminal to draw on. Without it, plain lines.
   */
  liveScreen?: typeof startLiveScreen | null;
  /** Monotonic clock in ms (tests pass their own). */
  now?: () => number;
  /** A second Ctrl-C while quitting (default: the controls' quitNow). */
  raiseInterrupt?: () => void;
  /** Live redraw period. */
  tickMs?: number;
};

export type View = {
  observe(event: ChatEvent): void;
  attach(controls: ViewControls): void;
  /** The tools were reloaded: show the new names in the header. */
  setTools(names: readonly string[]): void;
  summary(outcome: ChatOutcome, extra: { recordingPath?: string }): void;
  /** Restores the terminal (live line, raw mode, cursor); safe to call more than once. */
  close(): void;
  /** The current screen state (for tests). */
  state(): UiState;
};

const SHOW_CURSOR = '\x1b[?25h';
/** The live status line is laid out for at least this many columns. */
const MIN_COLUMNS = 40;
/** The two live lines and one line of log. */
const MIN_ROWS = 3;

/** Whether a terminal has room for the live screen (a size it does not report counts as room). */
function roomForLiveScreen(stream: Pick<Writable, 'columns'> & { rows?: number }): boolean {
  const { columns, rows } = stream;
  return (columns === undefined || columns >= MIN_COLUMNS) && (rows === undefined || rows >= MIN_ROWS);
}

export function createView(options: ViewOptions): View {
  const { out, header } = options;
  const { chalk } = out;
  const now = options.now ?? (() => performance.now());
  const startLive = out.interactive ? options.liveScreen : null;
  const live = startLive !== undefined && startLive !== null;
  let state = initialUiState({ ...header }, { now: now(), verbose: options.verbose });
  let controls: ViewControls | null = null;
  let detachKeys: (() => void) | null = null;
  let quitting = false;
  const terminal = out.stream as Writable & Partial<Pick<NodeJS.EventEmitter, 'on' | 'off'>>;
  const width = (): number => Math.max(MIN_COLUMNS, terminal.columns ?? 80);

  for (const line of renderHeader(state, chalk)) out.line(line);

  const liveText = (): string => `${renderStatus(state, { chalk, now: now(), width: width() })}\n${renderInfo(state, { chalk, width: width() })}`;
  let screen: LiveScreen | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const showLive = (): void => {
    if (!startLive || screen || closed) return;
    screen = startLive({ stream: terminal as Writable & NodeJS.WritableStream, color: chalk.level > 0, text: liveText() });
    timer = setInterval(() => {
      if (controls) state = setLevels(state, controls.levels());
      screen?.update(liveText());
    }, options.tickMs ?? 100);
    timer.unref();
  };
  const hideLive = (): void => {
    if (timer) clearInterval(timer);
    timer = null;
    screen?.stop();
    screen = null;
  };
  // A terminal too small for the live lines (0×0 under a bare pty, a few columns, one row) gets plain
  // lines: ora counts a line's rows by dividing by the width, and at 0 columns it clears lines forever.
  // The size is checked again on every resize, in the same tick as it changes, before ora draws again.
  const onResize = (): void => (roomForLiveScreen(terminal) ? showLive() : hideLive());
  if (startLive) {
    onResize();
    terminal.on?.('resize', onResize);
  }

  const emit = (log: readonly LogEntry[]): void => {
    if (log.length === 0) return;
    const rendered = log.map((entry) => {
      const line = renderLogEntry(entry, { chalk, startedAt: state.startedAt, timestamps: live });
      // A long warning wraps at word boundaries on a terminal, never mid-word.
      return { warning: entry.kind === 'warning', lines: entry.kind === 'warning' && (out.stream as Writable).isTTY === true ? wrapWords(line, width()) : [line] };
    });
    if (screen) {
      screen.update(liveText());
      screen.log(rendered.flatMap((entry) => entry.lines).map(redact));
    } else {
      // Warnings still reach the person under --quiet (on stderr).
      for (const entry of rendered) for (const line of entry.lines) (entry.warning ? out.warnLine : out.line)(line);
    }
  };
  const refresh = (): void => screen?.update(liveText());

  const onKey = (key: string): void => {
    const c = controls;
    if (!c) return;
    if (key === 'm' || key === 'M') {
      const step = setMuted(state, c.toggleMute(), now());
      state = step.state;
      emit(step.log);
    } else if (key === ' ') {
      c.interrupt();
    } else if (key === 'q' || key === 'Q' || key === '\u0003') {
      // Ctrl-C in raw mode quits like q (the terminal sends no SIGINT then); a second one ends at once.
      if (quitting) {
        if (key === '\u0003') (options.raiseInterrupt ?? (() => c.quitNow?.()))();
        return;
      }
      quitting = true;
      state = { ...state, activity: 'ending' };
      emit([{ at: now(), kind: 'dim', text: 'quitting…' }]);
      c.quit();
    } else if (key === '?' || key === 'h') {
      const at = now();
      emit(renderHelp(chalk).map((text) => ({ at, kind: 'info' as const, text })));
    }
    refresh();
  };

  const close = (): void => {
    if (timer) clearInterval(timer);
    timer = null;
    closed = true;
    if (startLive) terminal.off?.('resize', onResize);
    const flushed = flushLog(state);
    state = flushed.state;
    emit(flushed.log);
    hideLive();
    detachKeys?.();
    detachKeys = null;
  };

  return {
    state: () => state,
    observe(event) {
      const step = stepEvent(state, event, now());
      state = step.state;
      emit(step.log);
      if (step.log.length === 0) refresh();
    },
    setTools(names) {
      state = setTools(state, names);
      refresh();
    },
    attach(next) {
      controls = next;
      const input = options.input;
      if (!input?.isTTY || !input.setRawMode) return;
      const onData = (data: Buffer): void => {
        const text = data.toString('utf8');
        if (text.startsWith('\x1b')) return; // arrows and other escape sequences: not ours
        for (const key of text) onKey(key);
      };
      const restore = (): void => {
        try {
          input.setRawMode?.(false);
        } catch {
          // stdin already closed
        }
      };
      // After a crash or process.exit the terminal must still come back cooked, with a cursor.
      const onExit = (): void => {
        restore();
        if (live) (out.stream as Writable).write(SHOW_CURSOR);
      };
      input.setRawMode(true);
      input.on('data', onData);
      input.resume();
      const forgetExit = atExit(onExit);
      detachKeys = () => {
        input.off('data', onData);
        restore();
        input.pause();
        forgetExit();
      };
    },
    summary(outcome, extra) {
      close();
      out.line(renderSummary(state, outcome, { ...extra, now: now(), chalk }));
    },
    close,
  };
}
