/**
 * Test support: the built CLI as a running process whose --json NDJSON stdout can be waited on,
 * line by line (no sleeps: tests wait for the event they need).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type JsonLine = Record<string, unknown> & { frame?: { type?: string } };

export type CliProcess = {
  child: ChildProcess;
  lines: JsonLine[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first NDJSON line (from `from` on) that matches. */
  waitFor(match: (line: JsonLine) => boolean, timeoutMs?: number, from?: number): Promise<JsonLine>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
};

export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, ['bin/hydra-chat.js', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const lines: JsonLine[] = [];
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      if (part.trim() === '') continue;
      // Every stdout line must be JSON: a banner or stray print here fails the test.
      lines.push(JSON.parse(part) as JsonLine);
    }
    for (const waiter of [...waiters]) waiter();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    lines,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor(match, timeoutMs = 20_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.slice(from).find(match);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for a line; stderr:\n${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => {
          if (!waiters.has(check)) return;
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`hydra-chat exited before the line appeared; stderr:\n${stderr}`));
        });
        check();
      });
    },
  };
}

export const isFrame = (type: string) => (line: JsonLine): boolean => line.frame?.type === type;

export type Run = { code: number | null; stdout: string; stderr: string };

/**
 * Runs bin/hydra-chat.js to completion (bounded), without the developer's API key. With `stopWhen`, it
 * is stopped (SIGTERM) as soon as its output matches, and `matched` says whether it did.
 */
export function cli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
  stopWhen?: RegExp,
): Promise<Run & { matched: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/hydra-chat.js', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let matched = false;
    const check = (): void => {
      if (stopWhen === undefined || matched || !stopWhen.test(stdout + stderr)) return;
      matched = true;
      child.kill('SIGTERM');
    };
    child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), check()));
    child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), check()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hydra-chat ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, matched });
    });
  });
}
