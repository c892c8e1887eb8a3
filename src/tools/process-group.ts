/**
 * A command tool runs in a process group of its own (spawned detached: its own session, out of the
 * terminal's reach), so stopping it stops everything it started: `sh -c 'sleep 100'` leaves no
 * orphaned `sleep`. Groups still alive when the CLI exits (a second Ctrl-C, a crash) are killed
 * from a synchronous 'exit' hook. A process that left the group (`setsid`) but still holds the
 * tool's stdout or stderr is found by that pipe (Linux, /proc) and killed too; one that also closed
 * them is a daemon, out of reach.
 */
import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { atExit } from '../exit-hooks.js';

const liveGroups = new Set<number>();
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
  const child = spawn(program, args, { ...options, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
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

/**
 * The child's own ends of its stdout and stderr (`socket:[inode]` or `pipe:[inode]`, as /proc names
 * them), read while it runs (spawn returns after its exec); empty without /proc.
 */
export function pipesOf(child: ChildProcessWithoutNullStreams): Set<string> {
  const pipes = new Set<string>();
  for (const fd of [1, 2]) {
    try {
      pipes.add(readlinkSync(`/proc/${child.pid}/fd/${fd}`));
    } catch {
      // no /proc (not Linux), or already gone: the group kill is all there is
    }
  }
  return pipes;
}

/** SIGKILLs every other process (of this user) that holds one of `pipes` open: the tool's escapees. */
export function killPipeHolders(pipes: Set<string>): void {
  if (pipes.size === 0) return;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    return;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours
    }
    const holds = fds.some((fd) => {
      try {
        return pipes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
    if (holds) signalPid(Number(pid));
  }
}

function signalPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
