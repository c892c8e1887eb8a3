/**
 * The chat's screen: what the person sees and the keys they press. This first cut prints one line
 * per event (the plain, non-TTY form) and reads m / space / q / ? on a TTY.
 */
import type { ChatEvent, ChatOutcome } from '../chat.js';
import { summarize } from '../metrics.js';
import { renderEvent, seconds } from './render.js';
import type { Output } from './output.js';

export type ViewHeader = { model: string; voice: string | undefined; url: string; tools: readonly string[]; mock: boolean };

/** What the view can ask the chat to do. */
export type ViewControls = {
  interrupt(): void;
  /** Flips mute; returns whether the mic is now muted. */
  toggleMute(): boolean;
  quit(): void;
  /** Current levels in dBFS (-100 = silence). */
  levels(): { inputDb: number; outputDb: number };
};

export type KeyInput = {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  off(event: 'data', listener: (data: Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
};

export type ViewOptions = { out: Output; input: KeyInput | null; verbose: boolean; header: ViewHeader };

export type View = {
  observe(event: ChatEvent): void;
  attach(controls: ViewControls): void;
  summary(outcome: ChatOutcome, extra: { recordingPath?: string }): void;
  /** Restores the terminal (raw mode, cursor); safe to call more than once. */
  close(): void;
};

export function createView(options: ViewOptions): View {
  const { out, header } = options;
  const v2v: number[] = [];
  let toolCalls = 0;
  let interruptions = 0;
  const startedAt = Date.now();
  let detachKeys: (() => void) | null = null;

  out.line(
    out.chalk.bold('hydra-chat') +
      out.chalk.dim(` · ${header.model} · voice ${header.voice ?? 'default'} · ${header.url}${header.tools.length ? ` · tools: ${header.tools.join(', ')}` : ''}`),
  );

  return {
    observe(event) {
      if (event.type === 'metric') v2v.push(event.metric.v2vMs);
      if (event.type === 'note' && event.note.kind === 'tool-call') toolCalls += 1;
      if (event.type === 'played' && (event.reason === 'speech-started' || event.reason === 'key')) interruptions += 1;
      const line = renderEvent(event, { chalk: out.chalk, verbose: options.verbose, model: header.model });
      if (line !== null) out.line(line);
    },
    attach(controls) {
      const input = options.input;
      if (!input?.isTTY || !input.setRawMode) return;
      const onData = (data: Buffer): void => {
        const key = data.toString();
        if (key === 'm') out.line(controls.toggleMute() ? out.chalk.yellow('muted (silence is still streamed)') : 'unmuted');
        else if (key === ' ') controls.interrupt();
        else if (key === 'q' || key === '\u0003') controls.quit();
        else if (key === '?') out.line(out.chalk.dim('keys: m mute/unmute · space interrupt · q quit · ? help'));
      };
      input.setRawMode(true);
      input.on('data', onData);
      input.resume();
      detachKeys = () => {
        input.off('data', onData);
        input.setRawMode?.(false);
        input.pause();
      };
    },
    summary(outcome, extra) {
      const stats = summarize(v2v);
      const parts = [
        `${seconds(Date.now() - startedAt)}`,
        `${outcome.turns} turn(s)`,
        stats.count ? `V2V median ${Math.round(stats.medianMs!)} ms, max ${Math.round(stats.maxMs!)} ms` : 'no measured turns',
        `${toolCalls} tool call(s)`,
        `${interruptions} interruption(s)`,
      ];
      if (extra.recordingPath) parts.push(`recording: ${extra.recordingPath}`);
      out.line(out.chalk.dim(`summary · ${parts.join(' · ')}`));
    },
    close() {
      detachKeys?.();
      detachKeys = null;
    },
  };
}
