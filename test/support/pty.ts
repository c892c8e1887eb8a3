/**
 * Test support: a command on a real pseudo-terminal of a chosen size, through util-linux `script`
 * (the size is set with stty inside the pty before the command starts; 0×0 is what a bare pty reports).
 * Everything the command writes to the terminal is collected as bytes, up to a cap: past it the run
 * is killed, so a runaway redraw fails a test quickly instead of filling memory. Tests synchronise on
 * the output (`waitFor`), never by sleeping.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type PtyOptions = {
  cwd: string;
  columns: number;
  rows: number;
  /** Environment of the command (FORCE_COLOR, NO_COLOR, CI and TMUX are unset; TERM is xterm-256color unless given). */
  env?: Record<string, string>;
  /** Redirects the command's stderr to this file (stdout stays the terminal). */
  stderrFile?: string;
  /** Bytes after which the run is killed (default 4 MB). */
  maxBytes?: number;
};

export type PtyRun = {
  /** The pty's device (/dev/pts/N), to resize it from outside as a terminal window would. */
  device: Promise<string>;
  /** Everything written to the terminal so far. */
  output(): Buffer;
  /** Resolves when the output from byte `from` on matches (checked on every chunk); rejects if the run ends first. */
  waitFor(match: RegExp, from?: number): Promise<void>;
  /** The command's exit code (script -e), or null when it was killed for writing past the cap. */
  exited: Promise<{ code: number | null; overflow: boolean }>;
  /** Sets the terminal's size, which sends SIGWINCH to the command as a real resize does. */
  resize(columns: number, rows: number): Promise<void>;
  kill(): void;
};

const DEVICE = /^pty:(\/dev\/\S+)\r?\n/;
const quote = (arg: string): string => `'${arg.replaceAll("'", `'\\''`)}'`;

export function runInPty(argv: string[], options: PtyOptions): PtyRun {
  const quoted = argv.map(quote).join(' ');
  // The device is printed first (and cut from the output), then the command replaces the shell.
  const redirect = options.stderrFile === undefined ? '' : ` 2>${quote(options.stderrFile)}`;
  const command = `stty cols ${options.columns} rows ${options.rows}; printf 'pty:%s\\n' "$(tty)"; exec ${quoted}${redirect}`;
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...options.env };
  for (const key of ['FORCE_COLOR', 'NO_COLOR', 'CI', 'TMUX']) if (!options.env || !(key in options.env)) delete env[key];
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let bytes = 0;
  let overflow = false;
  const waiters = new Set<() => void>();
  let resolveDevice!: (device: string) => void;
  const device = new Promise<string>((resolve) => (resolveDevice = resolve));
  let head: string | null = '';
  child.stdout.on('data', (chunk: Buffer) => {
    if (head !== null) {
      head += chunk.toString('latin1');
      const match = DEVICE.exec(head);
      if (!match) return;
      resolveDevice(match[1]!);
      chunk = Buffer.from(head.slice(match[0].length), 'latin1');
      head = null;
    }
    chunks.push(chunk);
    bytes += chunk.length;
    if (bytes > maxBytes && !overflow) {
      overflow = true;
      child.kill('SIGKILL');
    }
    for (const waiter of waiters) waiter();
  });
  const exited = new Promise<{ code: number | null; overflow: boolean }>((resolve) =>
    child.on('close', (code) => {
      for (const waiter of waiters) waiter();
      resolve({ code: overflow ? null : code, overflow });
    }),
  );
  const output = (): Buffer => Buffer.concat(chunks);
  return {
    device,
    output,
    exited,
    waitFor(match, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (match.test(output().subarray(from).toString('utf8'))) {
            waiters.delete(check);
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(new Error(`the run ended before ${String(match)}; output:\n${output().toString('utf8').slice(-2000)}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    async resize(columns, rows) {
      await run('stty', ['-F', await device, 'cols', String(columns), 'rows', String(rows)]);
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export async function haveScript(): Promise<boolean> {
  try {
    await run('script', ['--version']);
    return true;
  } catch {
    return false;
  }
}
