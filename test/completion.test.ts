/**
 * `hydra-chat completion bash|zsh|fish` (issue 16 item 10): each script parses in its shell, and bash
 * (and fish, when installed) complete commands, flags, voices per model and device names.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli-process.js';
import { startVirtualAudio, type VirtualAudio } from './support/virtual-audio.js';

const exec = promisify(execFile);
const has = async (shell: string): Promise<boolean> => exec(shell, ['-c', 'exit 0']).then(() => true, () => false);
const haveZsh = await has('zsh');
const haveFish = await has('fish');

let dir: string;
let bin: string;
const scripts: Record<string, string> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-completion-'));
  // `hydra-chat` on PATH, as after an install: the scripts call it back for device names.
  bin = join(dir, 'bin');
  await exec('mkdir', ['-p', bin]);
  await writeFile(join(bin, 'hydra-chat'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(resolve('bin/hydra-chat.js'))} "$@"\n`);
  await chmod(join(bin, 'hydra-chat'), 0o755);
  for (const shell of ['bash', 'zsh', 'fish']) {
    const run = await cli(['completion', shell]);
    expect(run.code).toBe(0);
    scripts[shell] = join(dir, `hydra-chat.${shell}`);
    await writeFile(scripts[shell]!, run.stdout);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What bash completion offers for this command line (the last word is being completed). */
async function bashComplete(line: string, env: Record<string, string> = {}): Promise<string[]> {
  const words = line.split(' ');
  const program = `source ${JSON.stringify(scripts.bash)}
complete -p hydra-chat
COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')})
COMP_CWORD=${words.length - 1}
COMP_LINE=${JSON.stringify(line)}
_hydra_chat
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await exec('bash', ['--norc', '-c', program], { env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` } });
  const [registration, ...offers] = stdout.split('\n');
  expect(registration).toBe('complete -o default -F _hydra_chat hydra-chat');
  return offers.filter((offer) => offer !== '');
}

describe('hydra-chat completion', () => {
  it('bash: the script parses (bash -n)', async () => {
    await exec('bash', ['-n', scripts.bash!]);
  });

  it.skipIf(!haveZsh)('zsh: the script parses (zsh -n)', async () => {
    await exec('zsh', ['-n', scripts.zsh!]);
  });

  it.skipIf(!haveFish)('fish: the script parses (fish -n) and completes voices per model', async () => {
    await exec('fish', ['-n', scripts.fish!]);
    const { stdout } = await exec('fish', ['--no-config', '-c', `source ${scripts.fish}; complete -C 'hydra-chat --model hydra-v1.1 --voice '`]);
    const voices = stdout.split('\n').filter(Boolean).map((line) => line.split('\t')[0]);
    expect(voices.sort()).toEqual(['alex', 'aria', 'elena', 'grace', 'ivy', 'kai', 'leo', 'maya', 'sam', 'zoe']);
  });

  it('bash: commands and flags', async () => {
    expect(await bashComplete('hydra-chat dev')).toEqual(['devices']);
    expect(await bashComplete('hydra-chat doc')).toEqual(['doctor']);
    expect(await bashComplete('hydra-chat --vo')).toEqual(['--voice']);
    expect(await bashComplete('hydra-chat --input-d')).toEqual(['--input-device']);
    expect(await bashComplete('hydra-chat devices --ver')).toEqual(['--verbose']);
    expect(await bashComplete('hydra-chat completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(await bashComplete('hydra-chat --model hydra-v1')).toEqual(['hydra-v1.0', 'hydra-v1.1']);
  });

  it('bash: voices follow --model, all voices without it', async () => {
    expect(await bashComplete('hydra-chat --model hydra --voice ')).toEqual(['wren', 'sloane', 'marlowe', 'reed', 'knox', 'tate']);
    expect(await bashComplete('hydra-chat --model=hydra-v1.1 --voice a')).toEqual(['alex', 'aria']);
    expect(await bashComplete('hydra-chat --voice ar')).toEqual(['arden', 'aria']);
  });

  describe('device names', () => {
    let audio: VirtualAudio;
    beforeAll(async () => {
      audio = await startVirtualAudio();
    }, 30_000);
    afterAll(async () => audio?.stop());

    it('bash: --input-device and --output-device offer the devices that can record / play', async () => {
      const list = await cli(['__complete', 'devices', 'in'], audio.env);
      const inputs = list.stdout.split('\n').filter(Boolean);
      expect(inputs.length).toBeGreaterThan(0);
      const offered = await bashComplete('hydra-chat --input-device ', audio.env);
      expect(offered).toEqual(inputs.map((name) => name.replace(/ /g, '\\ ')));
      const outputs = (await cli(['__complete', 'devices', 'out'], audio.env)).stdout.split('\n').filter(Boolean);
      expect(outputs.length).toBeGreaterThan(0);
    });

    it('without audio the device list is empty, silently', async () => {
      const run = await cli(['__complete', 'devices', 'in'], { HYDRA_CHAT_NAUDIODON: '/nonexistent/naudiodon.node' });
      expect(run.code).toBe(0);
      expect(run.stdout + run.stderr).toBe('');
    });
  });
});
