/**
 * Test support: a command in a real terminal. Each session runs on its own tmux server (a private
 * socket), so tests can run in parallel and leave nothing behind. Tests synchronise by polling the
 * screen (capture-pane) until what they wait for appears, bounded by a timeout — never by sleeping.
 *
 * The command runs under a small shell wrapper that, once the command has exited, prints
 * `[exit N · terminal cooked|raw]` (raw = the program left the tty in raw mode), then keeps the pane
 * open (reading the tty) so the final screen and the cursor state can still be read.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

let counter = 0;

export type TmuxOptions = {
  cwd: string;
  /** Extra environment for the command (FORCE_COLOR, NO_COLOR, CI and TMUX are always unset). */
  env?: Record<string, string>;
  width?: number;
  height?: number;
};

export type ExitInfo = { code: number; terminal: 'cooked' | 'raw' };

export class TmuxSession {
  readonly socket: string;
  private readonly dir: string;

  private constructor(socket: string, dir: string) {
    this.socket = socket;
    this.dir = dir;
  }

  /** Starts `argv` in a detached session of `width`×`height` (default 120×40). */
  static async start(argv: string[], options: TmuxOptions): Promise<TmuxSession> {
    const dir = await mkdtemp(join(tmpdir(), 'hydra-tmux-'));
    const socket = `hydra-ui-${process.pid}-${++counter}`;
    const config = join(dir, 'tmux.conf');
    await writeFile(config, 'set -g remain-on-exit on\nset -g status off\nset -g history-limit 5000\n');
    const wrapper = join(dir, 'run.sh');
    const envArgs = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${shellQuote(value)}`);
    await writeFile(
      wrapper,
      [
        '#!/bin/sh',
        `env -u FORCE_COLOR -u NO_COLOR -u CI -u TMUX ${envArgs.join(' ')} ${argv.map(shellQuote).join(' ')}`,
        'code=$?',
        `if stty -a | grep -q -- '-icanon'; then mode=raw; else mode=cooked; fi`,
        'printf "[exit %s · terminal %s]\\n" "$code" "$mode"',
        // Keep the pane (and its cursor state) alive until the session is killed.
        'exec cat > /dev/null',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const session = new TmuxSession(socket, dir);
    await session.tmux(
      '-f',
      config,
      'new-session',
      '-d',
      '-x',
      String(options.width ?? 120),
      '-y',
      String(options.height ?? 40),
      '-c',
      options.cwd,
      `sh ${shellQuote(wrapper)}`,
    );
    return session;
  }

  /** The visible screen as plain text (trailing blank lines removed); `escapes` keeps colours and attributes. */
  async capture(escapes = false): Promise<string> {
    const { stdout } = await this.tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []));
    return stdout.replace(/\s+$/, '') + '\n';
  }

  /** The visible screen row by row, as the terminal wrapped it (no joining of wrapped lines). */
  async rows(): Promise<string[]> {
    const { stdout } = await this.tmux('capture-pane', '-p');
    return stdout.replace(/\s+$/, '').split('\n');
  }

  /** The pane's title (what an OSC 0 / OSC 2 sequence would set). */
  async title(): Promise<string> {
    const { stdout } = await this.tmux('display-message', '-p', '-t', '0', '#{pane_title}');
    return stdout.trim();
  }

  /** Polls the screen every `everyMs` until `match` holds; rejects after `timeoutMs` with the last screen. */
  async waitFor(match: string | RegExp | ((screen: string) => boolean), timeoutMs = 15_000, everyMs = 40): Promise<string> {
    const test = typeof match === 'function' ? match : typeof match === 'string' ? (s: string) => s.includes(match) : (s: string) => match.test(s);
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = await this.capture();
      if (test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(match)}; the screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** tmux key names ('Space', 'C-c') or literal text. */
  async sendKeys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', '0', ...keys);
  }

  /** Waits for the wrapper's `[exit N · terminal …]` line. */
  async waitForExit(timeoutMs = 20_000): Promise<ExitInfo & { screen: string }> {
    const screen = await this.waitFor(/\[exit \d+ · terminal (cooked|raw)\]/, timeoutMs);
    const match = /\[exit (\d+) · terminal (cooked|raw)\]/.exec(screen)!;
    return { code: Number(match[1]), terminal: match[2] as 'cooked' | 'raw', screen };
  }

  /** Whether the terminal shows its cursor (tmux's cursor_flag). */
  async cursorVisible(): Promise<boolean> {
    const { stdout } = await this.tmux('display-message', '-p', '-t', '0', '#{cursor_flag}');
    return stdout.trim() === '1';
  }

  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  private tmux(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    const env = { ...process.env };
    delete env.TMUX;
    return run('tmux', ['-L', this.socket, ...args], { env, timeout: 10_000 });
  }
}

export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** True when tmux can be run here. */
export async function haveTmux(): Promise<boolean> {
  try {
    await run('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}
