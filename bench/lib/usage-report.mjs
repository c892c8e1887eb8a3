// Preloaded (node --import) into processes whose cost the bench measures: on exit, writes this
// process's own CPU time and peak RSS to $BENCH_USAGE_DIR/<pid>.json (exact, unlike /proc polling).
import { readFileSync, writeFileSync } from 'node:fs';

const dir = process.env.BENCH_USAGE_DIR;
if (dir) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    // ru_maxrss survives execve (it includes the forked copy of the parent), so read this image's own
    // high-water mark instead.
    let hwmMB = null;
    try {
      const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
      if (line) hwmMB = Number(/(\d+)/.exec(line)[1]) / 1024;
    } catch {
      // not Linux
    }
    const report = {
      pid: process.pid,
      argv: process.argv.slice(1),
      userS: usage.userCPUTime / 1e6,
      sysS: usage.systemCPUTime / 1e6,
      maxRssMB: hwmMB ?? usage.maxRSS / 1024,
      uptimeS: process.uptime(),
    };
    try {
      writeFileSync(`${dir}/${process.pid}.json`, JSON.stringify(report));
    } catch {
      // the bench will say the report is missing
    }
  });
}
