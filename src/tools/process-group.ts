/**
 * A command tool runs in a process group of its own (spawned detached: its own session, out of the
 * terminal's reach), so stopping it stops everything it started: `sh -c 'sleep 100'` leaves no
 * orphaned `sleep`. Groups still alive when the CLI exits (a second Ctrl-C, a crash) are killed
 * from a synchronous 'exit' hook. A process that left the group (`setsid`) but still holds the
 * tool's stdout or stderr is found by that pipe (Linux, /proc) and killed too; one that also closed
 * them is a daemon, out of reach. The pipe is named by the tool's own fds, read just after spawn; a
 * tool that exited before that read (a zombie has no fds) is identified by a token in the environment
 * it passed down instead: a process carrying it whose stdout or stderr is still a pipe or socket.
 */
import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { atExit } from '../exit-hooks.js';

/** Set in every tool's environment, one value per run: how its escapees are recognised (see above). */
export const RUN_TOKEN_VAR = 'HYDRA_CHAT_TOOL_RUN';

const liveGroups = new Set<number>();
const tokens = new WeakMap<ChildProcessWithoutNullStreams, string>();
const NUL = Buffer.alloc(1);
let exitHooked = false;

const killLiveGroups = (): void => {
  for (const group of liveGroups) signalGroup(group);
  liveGroups.clear();
};

function signalGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

/** Spawns `program` as the leader of a new process group. */
export function spawnGroup(program: string, args: string[], options: SpawnOptionsWithoutStdio): ChildProcessWithoutNullStreams {
  const token = randomUUID();
  const env = { ...(options.env ?? process.env), [RUN_TOKEN_VAR]: token };
  const child = spawn(program, args, { ...options, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  tokens.set(child, token);
  if (child.pid !== undefined) {
    liveGroups.add(child.pid);
    if (!exitHooked) {
      exitHooked = true;
      atExit(killLiveGroups);
    }
  }
  return child;
}

/** SIGKILLs every process of the child's group (the child and whatever it started). */
export function killGroup(child: ChildProcessWithoutNullStreams): void {
  if (child.pid === undefined || !liveGroups.has(child.pid)) return;
  liveGroups.delete(child.pid);
  signalGroup(child.pid);
}

/** What identifies a tool's output pipes in other processes. */
export type ToolPipes = { pipes: Set<string>; token: string | undefined };

/**
 * The child's own ends of its stdout and stderr (`socket:[inode]` or `pipe:[inode]`, as /proc names
 * them), read while it runs (spawn returns after its exec); empty without /proc or once it has exited.
 */
export function pipesOf(child: ChildProcessWithoutNullStreams): ToolPipes {
  const pipes = new Set<string>();
  for (const fd of [1, 2]) {
    try {
      pipes.add(readlinkSync(`/proc/${child.pid}/fd/${fd}`));
    } catch {
      // no /proc (not Linux), or already gone: the token (or the group kill) is all there is
    }
  }
  return { pipes, token: tokens.get(child) };
}

/** SIGKILLs every other process (of this user) that holds one of the tool's pipes open: its escapees. */
export function killPipeHolders({ pipes, token }: ToolPipes): void {
  if (pipes.size === 0 && token === undefined) return;
  const marker = token === undefined ? null : Buffer.from(`\0${RUN_TOKEN_VAR}=${token}\0`);
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    return;
  }
  // The pipe names when they were read; else the token, on a process whose stdout or stderr is still a pipe.
  const holds = (pid: string): boolean =>
    pipes.size > 0
      ? fdsOf(pid).some((fd) => pipes.has(link(pid, fd)))
      : marker !== null && [link(pid, '1'), link(pid, '2')].some((l) => /^(socket|pipe):/.test(l)) && carries(pid, marker);
  for (const pid of pids) if (holds(pid)) signalPid(Number(pid));
}

function fdsOf(pid: string): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`);
  } catch {
    return []; // gone, or not ours
  }
}

function link(pid: string, fd: string): string {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return '';
  }
}

/** Whether the process was started with `marker` (`\0NAME=value\0`) in its environment. */
function carries(pid: string, marker: Buffer): boolean {
  try {
    // Every entry of /proc/<pid>/environ ends with a NUL; a leading one makes the first entry match too.
    return Buffer.concat([NUL, readFileSync(`/proc/${pid}/environ`)]).includes(marker);
  } catch {
    return false;
  }
}

function signalPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
