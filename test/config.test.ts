/**
 * The user defaults file and `hydra-chat config` (issue 16 item 2): flags > project file (the agent
 * config) > user file ($XDG_CONFIG_HOME/hydra-chat/config.json, else ~/.config/…) > built-in defaults.
 * The real CLI against the real simulator.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import { cli } from './support/cli-process.js';

const HELLO = 'test/fixtures/hello-16k.wav';
let dir: string;
let xdg: string;
let simulator: Simulator;

async function userFile(content: string, base = xdg): Promise<string> {
  await mkdir(join(base, 'hydra-chat'), { recursive: true });
  const path = join(base, 'hydra-chat', 'config.json');
  await writeFile(path, content);
  return path;
}

/** The voice the client sent in session.configure (a --json run). */
function sentVoice(stdout: string): unknown {
  for (const line of stdout.trim().split('\n')) {
    const event = JSON.parse(line) as { dir?: string; frame?: { type: string; session?: { voice?: string } } };
    if (event.dir === 'out' && event.frame?.type === 'session.configure') return event.frame.session?.voice;
  }
  throw new Error(`no session.configure in\n${stdout}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-config-'));
  xdg = join(dir, 'xdg');
  simulator = await createSimulator({ port: 0, profile: 'aug-2026' });
});
afterAll(async () => {
  await simulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe('user defaults file', () => {
  it('a chat takes voice and url from the user file; a flag wins; the project file wins over the user file', async () => {
    await userFile(JSON.stringify({ voice: 'aria', url: simulator.url, frameMs: 40 }));
    const env = { XDG_CONFIG_HOME: xdg };
    const base = ['--json', '--input', HELLO, '--output', join(dir, 'out.wav'), '--force'];
    const fromUser = await cli(base, env);
    expect(fromUser.code).toBe(0); // the url from the file is local: no key needed
    expect(sentVoice(fromUser.stdout)).toBe('aria');

    const fromFlag = await cli([...base, '--voice', 'maya'], env);
    expect(sentVoice(fromFlag.stdout)).toBe('maya');

    const project = join(dir, 'hydra.tools.json');
    await writeFile(project, JSON.stringify({ voice: 'zoe', tools: [] }));
    const fromProject = await cli([...base, '--tools', project], env);
    expect(sentVoice(fromProject.stdout)).toBe('zoe');
  });

  it('hydra-chat config shows the merged settings and where each came from', async () => {
    const path = await userFile(JSON.stringify({ voice: 'aria', inputDevice: 'USB', echoGuard: false }));
    const project = join(dir, 'agent.json');
    await writeFile(project, JSON.stringify({ model: 'hydra-v1.1', tools: [] }));
    const run = await cli(['--max-retries', '3', '--tools', project, 'config'], { XDG_CONFIG_HOME: xdg });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^--voice\\s+aria\\s+user file ${path.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^--model\\s+hydra-v1\\.1\\s+project file ${project.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(run.stdout).toMatch(/^--input-device\s+USB\s+user file/m);
    expect(run.stdout).toMatch(/^--echo-guard\s+false\s+user file/m);
    expect(run.stdout).toMatch(/^--max-retries\s+3\s+flag$/m);
    expect(run.stdout).toMatch(/^--url\s+wss:\/\/api\.smallest\.ai\/waves\/v1\/s2s\s+built-in default$/m);
  });

  it('without XDG_CONFIG_HOME the file is ~/.config/hydra-chat/config.json; the model follows the voice', async () => {
    const home = join(dir, 'home');
    await userFile(JSON.stringify({ voice: 'reed' }), join(home, '.config'));
    const run = await cli(['config', '--json'], { HOME: home });
    const event = JSON.parse(run.stdout) as { settings: Record<string, { value: unknown; source: string; shown: string }>; files: { user: string } };
    expect(event.files.user).toBe(join(home, '.config', 'hydra-chat', 'config.json'));
    expect(event.settings.voice).toMatchObject({ value: 'reed', source: 'user' });
    expect(event.settings.model!.shown).toBe('hydra (picked by the voice reed)');
  });

  for (const [content, problem] of [
    ['{ "voice": "aria", }', /not valid JSON/],
    ['{ "vocie": "aria" }', /unknown key "vocie" \(known: voice, model/],
    ['{ "frameMs": "40" }', /"frameMs" must be a whole number/],
    ['["aria"]', /expected a JSON object/],
    ['{ "maxRetries": -1 }', /"maxRetries" must be a whole number/],
  ] as const) {
    it(`a broken file (${problem.source}) is one line naming the file, exit 2, for a chat and for config`, async () => {
      const path = await userFile(content);
      for (const args of [['--mock', '--input', HELLO, '--output', join(dir, 'b.wav')], ['config']]) {
        const run = await cli(args, { XDG_CONFIG_HOME: xdg });
        expect(run.code).toBe(2);
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
        expect(run.stderr).toContain(`error: config file ${path}: `);
        expect(run.stderr).toMatch(problem);
      }
    });
  }
});
