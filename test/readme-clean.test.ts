/**
 * Issue 16, done-when: a fresh clone stays clean after the README's commands. The README's `npx
 * hydra-chat …` lines (and the `$ hydra-chat run …` example) that run offline without a microphone or a
 * key are run with the clone's own bin (what `npx hydra-chat` runs there) in a temporary clone; `git status --porcelain` must then be empty.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
let dir: string;
let clone: string;

/** README command lines a test can run: offline, no microphone (an --input file or a subcommand), no key, no network. */
function runnableCommands(readme: string): string[] {
  const lines = readme
    .split('\n')
    .map((line) => line.replace(/^\$ /, '').replace(/\s+#.*$/, '').trim())
    .filter((line) => /^(npx )?hydra-chat /.test(line));
  return [
    ...new Set(
      lines.filter(
        (line) =>
          !line.includes('SMALLEST_API_KEY') &&
          !/\S\s{2,}\S/.test(line) && // a synopsis line with its description
          !/[|<>]/.test(line.replace(/<[^>]*>/g, '')) &&
          !/<|\.\.\./.test(line) &&
          (/--mock .*--input |--input .*--mock /.test(line) ||
            /^(npx )?hydra-chat (tools check|tools call|voices|config|run \S+ --mock)/.test(line)),
      ),
    ),
  ];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-clone-'));
  clone = join(dir, 'clone');
  await exec('git', ['clone', '--quiet', '--no-hardlinks', resolve('.'), clone]);
  // What `npm ci` leaves in a clone: node_modules and the build (both ignored).
  await symlink(resolve('node_modules'), join(clone, 'node_modules'));
  await cp(resolve('dist'), join(clone, 'dist'), { recursive: true });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the README's commands in a fresh clone", () => {
  it('run, and leave `git status --porcelain` empty', async () => {
    const commands = runnableCommands(await readFile(join(clone, 'README.md'), 'utf8'));
    expect(commands).toContain('npx hydra-chat --mock --input examples/hello-16k.wav --output reply.wav');
    expect(commands.some((line) => line.includes(' run examples/'))).toBe(true);
    expect(commands.length).toBeGreaterThanOrEqual(4);
    const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), XDG_CONFIG_HOME: join(dir, 'config'), NO_COLOR: '1' };
    // Side by side: the chats are paced in real time, mostly waiting.
    const runs = await Promise.all(
      commands.map(async (line) => {
        const words = (line.match(/'[^']*'|\S+/g) ?? []).map((word) => word.replace(/^'(.*)'$/, '$1'));
        // `npx hydra-chat …` in a clone runs the project's own bin: run that bin directly (npx's first run in
        // a fresh clone spends half a minute reading node_modules; what is tested here is what the command writes).
        const argv = [join(clone, 'bin', 'hydra-chat.js'), ...(words[0] === 'npx' ? words.slice(2) : words.slice(1))];
        const run = await exec(process.execPath, argv, { cwd: clone, env, timeout: 90_000 }).then(
          (result) => ({ ...result, code: 0 }),
          (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
        );
        return { line, ...run };
      }),
    );
    for (const run of runs) expect(run.code, `${run.line}\n${run.stderr}`).toBe(0);
    const { stdout } = await exec('git', ['status', '--porcelain', '--ignored=no'], { cwd: clone });
    expect(stdout).toBe('');
  }, 180_000);
});
