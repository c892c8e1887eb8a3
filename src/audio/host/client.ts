/**
 * Starts and talks to an audio host (./main.ts). Owns the child's lifecycle: its stdout and stderr
 * (naudiodon banners, alsa-lib noise) are captured, never shown; PortAudio status lines surface as
 * warnings; close() asks politely, then SIGKILLs after a second (a dead sound server blocks quit()).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HydraError } from '../../errors.js';
import type { FromHost, ToHost } from './protocol.js';

export type HostEvents = {
  onMessage: (message: FromHost) => void;
  /** The host died without being asked to (crash, sound server gone, SIGKILL). */
  onExit: (description: string) => void;
  /** A PortAudio status line (e.g. output underflow), already trimmed. */
  onWarning?: (line: string) => void;
};

export type AudioHost = {
  send(message: ToHost): void;
  /** Last lines the host printed, for error messages and --verbose. */
  output(): string[];
  /** Closes the stream and the host; resolves once it is gone (≤ ~1 s, by SIGKILL if need be). */
  close(): Promise<void>;
  kill(): void;
};

const CLOSE_TIMEOUT_MS = 1000;

/** The compiled host script: next to this file when running from dist, else in dist. */
function hostScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, 'main.js');
  if (existsSync(sibling)) return sibling;
  const root = resolve(here, '../../..');
  const built = join(root, 'dist', 'src', 'audio', 'host', 'main.js');
  if (existsSync(built)) return built;
  throw new HydraError('audio-unavailable', `the audio host is not built (${built} missing)`, { hint: 'run npm run build' });
}

export function startHost(events: HostEvents): AudioHost {
  // naudiodon-adjacent code may write files (crash logs) into its working directory: give it a
  // scratch one, removed when the host ends.
  const cwd = mkdtempSync(join(tmpdir(), 'hydra-audio-'));
  const child: ChildProcess = fork(hostScript(), [], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
    execArgv: [],
  });
  const lines: string[] = [];
  let expectedExit = false;
  let exited = false;
  const exitedPromise = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exited = true;
      rmSync(cwd, { recursive: true, force: true });
      if (!expectedExit) events.onExit(signal ? `the audio host was killed (${signal})` : `the audio host exited (code ${code})`);
      resolveExit();
    });
  });
  const capture = (chunk: Buffer): void => {
    for (const raw of chunk.toString('utf8').split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      lines.push(line);
      if (lines.length > 50) lines.shift();
      if (/portAudio status/i.test(line)) events.onWarning?.(line.replace(/^.*portAudio status -\s*/i, ''));
    }
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  child.on('message', (message) => events.onMessage(message as FromHost));
  child.on('error', () => {
    /* reported through 'exit' */
  });

  const kill = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  return {
    send(message) {
      if (!exited && child.connected) child.send(message);
    },
    output: () => [...lines],
    kill() {
      expectedExit = true;
      kill();
    },
    async close() {
      expectedExit = true;
      if (exited) return;
      if (child.connected) child.send({ op: 'close' } satisfies ToHost);
      const timer = setTimeout(kill, CLOSE_TIMEOUT_MS);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Converts a host's process.hrtime.bigint() stamp to this process's performance.now() timeline. */
export function hrtimeToPerf(hrtime: bigint): number {
  return performance.now() - Number(process.hrtime.bigint() - hrtime) / 1e6;
}
