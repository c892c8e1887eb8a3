/**
 * A command tool runs in a process group of its own (spawned detached: its own session, out of the
 * terminal's reach), so stopping it stops everything it started: `sh -c 'sleep 100'` leaves no
 * orphaned `sleep`. Groups still alive when the CLI exits (a second Ctrl-C, a crash) are killed
 * from a synchronous 'exit' hook.
 */
import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';

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
      process.on('exit', killLiveGroups);
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
