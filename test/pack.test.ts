/**
 * The package, not the repo (issue 16 item 3): `npm pack`, install the tarball into an empty project
 * offline, and run --help's quick start from the installed `hydra-chat` in an empty directory.
 *
 * Offline on a fresh machine: `npm install -g <tarball>` resolves version ranges through registry
 * metadata, which `npm ci` never stores in npm's cache. So the tarball is installed with `npm ci --offline`
 * into a throwaway project whose lock pins the dependencies to this repo's package-lock.json (resolved
 * URL + integrity): exactly the tarballs the repo's own `npm ci` put in the cache.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav.js';

const exec = promisify(execFile);
let dir: string;
let tarball: string;
let installed: string;
let files: string[];

type Lock = { packages: Record<string, { dev?: boolean }> };
type Manifest = { name: string; version: string; bin: Record<string, string>; dependencies: Record<string, string>; optionalDependencies?: Record<string, string>; files: string[] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-pack-'));
  const manifest = JSON.parse(await readFile('package.json', 'utf8')) as Manifest;
  // npm test builds dist/ first; packing must not rebuild it (--ignore-scripts skips `prepare`).
  await stat('dist/src/cli.js');
  const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir]);
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, packed!.filename);
  files = packed!.files.map((file) => file.path);

  const project = join(dir, 'project');
  await mkdir(project);
  const lock = JSON.parse(await readFile('package-lock.json', 'utf8')) as Lock;
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = { '': { name: 'probe', dependencies: { [manifest.name]: spec } } };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && entry.dev !== true) packages[path] = entry;
  packages[`node_modules/${manifest.name}`] = {
    version: manifest.version,
    resolved: spec,
    dependencies: manifest.dependencies,
    optionalDependencies: manifest.optionalDependencies,
    bin: manifest.bin,
  };
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'probe', private: true, dependencies: { [manifest.name]: spec } }));
  await writeFile(join(project, 'package-lock.json'), JSON.stringify({ name: 'probe', lockfileVersion: 3, requires: true, packages }));
  // --omit=optional: the quick start needs no PortAudio, and building it would take a minute.
  await exec('npm', ['ci', '--offline', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project });
  installed = join(project, 'node_modules', '.bin', 'hydra-chat');
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the built CLI, the sample WAV and the examples README points at', async () => {
    for (const file of ['bin/hydra-chat.js', 'dist/src/cli.js', 'examples/hello-16k.wav', 'examples/hydra.tools.json', 'examples/lookup-order.mjs', 'examples/tools.yaml']) {
      expect(files).toContain(file);
    }
    // Every examples/ path the README names is in the package.
    const readme = await readFile('README.md', 'utf8');
    for (const [path] of readme.matchAll(/examples\/[\w.-]+\.\w+/g)) expect(files).toContain(path);
    expect(files.some((file) => file.startsWith('test/'))).toBe(false);
  });

  it("--help's quick start works from the installed hydra-chat in an empty directory", async () => {
    const { stdout } = await exec(installed, ['--help']);
    const line = /^\s+\$ (hydra-chat --mock --input \S+ --output reply\.wav)$/m.exec(stdout);
    expect(line, stdout).not.toBeNull();
    const args = line![1]!.split(' ').slice(1);
    expect(resolve(args[args.indexOf('--input') + 1]!)).toContain(join('node_modules', 'hydra-chat', 'examples', 'hello-16k.wav'));
    const cwd = join(dir, 'empty');
    await mkdir(cwd);
    const run = await exec(installed, args, { cwd, timeout: 60_000 });
    expect(run.stdout).toMatch(/V2V \d+ ms/);
    const reply = await readWav(join(cwd, 'reply.wav'));
    expect(reply.pcm.length).toBeGreaterThan(reply.sampleRate * 2 * 0.5);
  }, 60_000);

  it('the shipped tools example checks and runs from the installed package', async () => {
    const config = join(dir, 'project', 'node_modules', 'hydra-chat', 'examples', 'hydra.tools.json');
    const check = await exec(installed, ['tools', 'check', config]);
    expect(check.stdout).toContain('3 tools, valid');
    const call = await exec(installed, ['tools', 'call', config, 'lookup_order', '{"order_id":"A17"}']);
    expect(JSON.parse(call.stdout)).toMatchObject({ order_id: 'A17', status: 'shipped' });
  });
});
