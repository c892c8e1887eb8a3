/**
 * Command tools run in a process group of their own (issue 13, item 10): a timeout, a quit and a
 * Ctrl-C of the real CLI stop the whole group, so `sh -c 'sleep 100 & …; wait'` leaves no orphaned
 * `sleep`; a command that exits while a background job still holds its stdout is answered on its
 * exit, not when the pipe closes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import type { ToolDefinition } from '../src/tools/define.js';
import { createToolRunner, validateAgentConfig } from '../src/tools/index.js';
import { killPipeHolders, pipesOf, spawnGroup } from '../src/tools/process-group.js';
import { silence, tone, writeWav16k } from './fixtures/faults/harness.js';
import { startCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-tools-process-'));
const strays: number[] = [];
const simulators: Simulator[] = [];
afterEach(async () => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL'); // a failed test must not leave its sleep behind either
    } catch {
      // gone, as it should be
    }
  }
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A shell that starts `sleep 100` in the background, writes its pid to a fresh file, then waits for it. */
function sleeper(): { command: string[]; pidFile: string } {
  const pidFile = join(dir, `sleep-${++files}.pid`);
  return { command: ['sh', '-c', `sleep 100 & echo $! > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile}; wait`], pidFile };
}

/** Resolves with the pid once the file exists (watching its folder, no polling). */
function pidFrom(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(() => (watcher.close(), reject(new Error(`${path} never appeared`))), 20_000);
    const check = (): void => {
      // The shell creates the file before `echo` writes to it: wait for the digits (the write is an event too).
      const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
      if (!/^\d+\n/.test(text)) return;
      watcher.close();
      clearTimeout(timer);
      const pid = Number(text.trim());
      strays.push(pid);
      resolve(pid);
    };
    watcher.on('change', check);
    check();
  });
}

/** Whether `pid` still runs (a zombie waiting for init to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGKILL is delivered at once, but the kernel tears the process down a moment later: wait for that. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return !alive(pid);
}

const runnerFor = (tools: ToolDefinition[]) => createToolRunner(validateAgentConfig(tools, join(dir, 'hydra.tools.json')));

describe('command tools run in their own process group', () => {
  it('a timeout kills the shell and the sleep it started', async () => {
    const { command, pidFile } = sleeper();
    const run = await runnerFor([{ name: 'slow', timeoutMs: 2000, command }]).run('slow', '{}', { signal: new AbortController().signal, callId: 'c1' });
    expect(run.error).toBe('tool timed out after 2000 ms');
    const pid = await pidFrom(pidFile);
    expect(await gone(pid)).toBe(true);
  });

  it('a quit (the session signal) kills the group too', async () => {
    const { command, pidFile } = sleeper();
    const quit = new AbortController();
    const running = runnerFor([{ name: 'slow', timeoutMs: 60_000, command }]).run('slow', '{}', { signal: quit.signal, callId: 'c1' });
    const pid = await pidFrom(pidFile);
    expect(alive(pid)).toBe(true);
    quit.abort();
    expect(await running).toMatchObject({ ok: false, error: 'cancelled' });
    expect(await gone(pid)).toBe(true);
  });

  it('a command that exits 0 while a background job holds stdout is answered on its exit', async () => {
    const pidFile = join(dir, 'background.pid');
    const command = ['sh', '-c', `echo done; sleep 100 & echo $! > ${pidFile}`];
    const run = await runnerFor([{ name: 'quick', timeoutMs: 20_000, command }]).run('quick', '{}', { signal: new AbortController().signal, callId: 'c1' });
    expect(run).toMatchObject({ ok: true, output: 'done\n' });
    expect(run.durationMs).toBeLessThan(10_000); // not the 20 s timeout
    expect(await gone(await pidFrom(pidFile))).toBe(true); // what it left running in its group is stopped
  });

  it('a process that left the group (setsid) but holds the output pipe is stopped too: on exit and on timeout', async () => {
    // Not a group leader, so setsid does not fork: $! is the escaped sleep itself.
    const escapePid = join(dir, 'escaped.pid');
    const quick = ['sh', '-c', `setsid sleep 100 & echo $! > ${escapePid}.tmp && mv ${escapePid}.tmp ${escapePid}; echo started`];
    const run = await runnerFor([{ name: 'quick', timeoutMs: 20_000, command: quick }]).run('quick', '{}', { signal: new AbortController().signal, callId: 'c1' });
    expect(run).toMatchObject({ ok: true, output: 'started\n' });
    expect(await gone(await pidFrom(escapePid))).toBe(true);

    const waitPid = join(dir, 'escaped-wait.pid');
    const slow = ['sh', '-c', `setsid sleep 100 & echo $! > ${waitPid}.tmp && mv ${waitPid}.tmp ${waitPid}; wait`];
    const timedOut = await runnerFor([{ name: 'slow', timeoutMs: 1500, command: slow }]).run('slow', '{}', { signal: new AbortController().signal, callId: 'c2' });
    expect(timedOut.error).toBe('tool timed out after 1500 ms');
    expect(await gone(await pidFrom(waitPid))).toBe(true);
  });

  it('an escapee of a tool that exited before its pipes could be read is found by the run token', async () => {
    // The race behind a rare failure of the test above: the tool's fds are read just after spawn, and a
    // tool that has already exited has none. Here the read always comes too late.
    const escaped = join(dir, 'late.pid');
    const daemon = join(dir, 'late-daemon.pid');
    const script = [
      `setsid sleep 100 & echo $! > ${escaped}`, // holds the tool's stdout: an escapee
      // Closed them: a daemon, left alone. It writes its pid itself, once its output is /dev/null (the
      // parent's `echo $!` could come before the fork applied the redirection, and the scan would see a pipe).
      `setsid sh -c 'echo $$ > ${daemon}; exec sleep 100' >/dev/null 2>&1 &`,
    ].join('; ');
    const child = spawnGroup('sh', ['-c', script], { cwd: dir });
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
    const late = pipesOf(child);
    expect(late.pipes.size).toBe(0);
    const [escapee, detached] = [await pidFrom(escaped), await pidFrom(daemon)];
    expect(alive(escapee) && alive(detached)).toBe(true);
    killPipeHolders(late);
    expect(await gone(escapee)).toBe(true);
    expect(alive(detached)).toBe(true);
    child.stdout.destroy();
    child.stderr.destroy();
  });

  it('Ctrl-C of `hydra-chat tools call` stops the tool and its sleep', async () => {
    const { command, pidFile } = sleeper();
    const file = join(dir, 'call.json');
    writeFileSync(file, JSON.stringify({ tools: [{ name: 'slow', timeoutMs: 60_000, command }] }));
    const run = startCli(['tools', 'call', file, 'slow'], {});
    const pid = await pidFrom(pidFile);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toMatch(/stopped tool "slow"/);
    expect(await gone(pid)).toBe(true);
  });

  it('Ctrl-C during a tool call in a chat ends the run and leaves no orphan', async () => {
    const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, rules: [{ turn: 1, calls: [{ name: 'slow', arguments: {} }] }] });
    simulators.push(sim);
    const { command, pidFile } = sleeper();
    const file = join(dir, 'chat.json');
    writeFileSync(file, JSON.stringify({ tools: [{ name: 'slow', timeoutMs: 60_000, command }] }));
    const utterance = join(dir, 'utterance.wav');
    writeWav16k(utterance, Buffer.concat([silence(200), tone(600), silence(200)]));
    const run = startCli(
      ['--json', '--url', sim.url, '--tools', file, '--input', utterance, '--output', join(dir, 'out.wav'), '--trailing-silence', '600000'],
      { SMALLEST_API_KEY: 'sk-process-test' },
    );
    const pid = await pidFrom(pidFile);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(await gone(pid)).toBe(true);
  });
});
