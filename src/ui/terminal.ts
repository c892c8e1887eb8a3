/**
 * The live part of a real terminal: an ora spinner line (status + meters) with an info line under
 * it, and log lines written above. The cursor is hidden while it runs and shown again on stop —
 * also when the process exits any other way (the 'exit' handler), so a crash never leaves the
 * terminal without a cursor.
 */
import ora, { type Ora } from 'ora';
import { atExit } from '../exit-hooks.js';
import type { Writable } from './output.js';

export type LiveScreen = {
  /** Replace the live text (status line, info line). */
  update(text: string): void;
  /** Write finished lines above the live text. */
  log(lines: readonly string[]): void;
  /** Remove the live text and show the cursor; safe to call more than once. */
  stop(): void;
};

export type LiveScreenOptions = {
  stream: Writable & NodeJS.WritableStream;
  /** Spinner colour; false without colour. */
  color: boolean;
  text: string;
};

const SHOW_CURSOR = '\x1b[?25h';

export function startLiveScreen(options: LiveScreenOptions): LiveScreen {
  const { stream } = options;
  const spinner: Ora = ora({
    stream: stream as NodeJS.WriteStream,
    text: options.text,
    spinner: 'dots',
    color: options.color ? 'cyan' : false,
    isEnabled: true,
    // Keys are ours: ora must not put stdin into its own raw "discard" mode.
    discardStdin: false,
    hideCursor: true,
  });
  spinner.start();
  let stopped = false;
  const onExit = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      spinner.stop();
    } catch {
      // the stream may be gone; showing the cursor below is what matters
    }
    stream.write(SHOW_CURSOR);
  };
  const forgetExit = atExit(onExit);
  return {
    update(text) {
      if (stopped) return;
      spinner.text = text;
    },
    log(lines) {
      if (lines.length === 0) return;
      if (stopped) {
        stream.write(lines.join('\n') + '\n');
        return;
      }
      // ora hooks the stream while it spins: a write clears the live text, lands above it, and the
      // live text is drawn again below. One write keeps it to one redraw.
      stream.write(lines.join('\n') + '\n');
    },
    stop() {
      if (stopped) return;
      onExit();
      forgetExit();
    },
  };
}
