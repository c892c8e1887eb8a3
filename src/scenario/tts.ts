/**
 * `say:` turns: text → 16 kHz mono PCM16 through the espeak-ng CLI (spawned without a shell, text on
 * stdin), cached as WAV under $XDG_CACHE_HOME/hydra-chat/tts (default ~/.cache/hydra-chat/tts) by a
 * hash of engine, voice, speed and text, so repeated runs speak exactly the same audio.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readWavMono16k, wavHeader } from '../audio/wav.js';
import { HydraError } from '../errors.js';

export type TtsOptions = {
  voice?: string;
  wpm?: number;
  env?: NodeJS.ProcessEnv;
  /** The espeak-ng executable (tests point it elsewhere). */
  command?: string;
};

const DEFAULT_VOICE = 'en-us';
const DEFAULT_WPM = 160;

/** Where synthesized turns are kept. */
export function ttsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.length > 0 ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'hydra-chat', 'tts');
}

/** The speech for `text` as 16 kHz mono PCM16, from the cache or freshly synthesized. */
export async function synthesize(text: string, options: TtsOptions = {}): Promise<Buffer> {
  const voice = options.voice ?? DEFAULT_VOICE;
  const wpm = options.wpm ?? DEFAULT_WPM;
  const key = createHash('sha256').update(JSON.stringify(['espeak-ng', voice, wpm, text])).digest('hex').slice(0, 32);
  const dir = ttsCacheDir(options.env);
  const cached = join(dir, `${key}.wav`);
  const hit = await readFile(cached).catch(() => null);
  if (hit !== null && hit.length > 44) return hit.subarray(44);

  await mkdir(dir, { recursive: true });
  const unique = randomUUID().slice(0, 8);
  const raw = join(dir, `${key}.${unique}.raw.wav`);
  try {
    await runEspeak(options.command ?? 'espeak-ng', ['-v', voice, '-s', String(wpm), '-w', raw, '--stdin'], text);
    const pcm = await readWavMono16k(raw);
    // Write-then-rename: concurrent runs never read a half-written cache entry.
    const partial = `${cached}.${unique}.tmp`;
    await writeFile(partial, Buffer.concat([wavHeader(16000, 1, pcm.length), pcm]));
    await rename(partial, cached);
    return pcm;
  } finally {
    await rm(raw, { force: true });
  }
}

function runEspeak(command: string, args: string[], text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { shell: false, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)));
    child.stdin.on('error', () => undefined); // a child that exits early closes its stdin; the exit code says why
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new HydraError('input-file', `${command} not found, and a say: turn needs it: install espeak-ng, or give the turn a wav`, {
          hint: 'e.g. apt-get install espeak-ng / brew install espeak-ng; or record the line and use wav: ./line.wav',
          cause: error,
        }));
      } else {
        reject(new HydraError('input-file', `cannot run ${command}: ${error.message}`, { cause: error }));
      }
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new HydraError('input-file', `${command} failed (exit ${code}): ${stderr.trim() || 'no message'}`));
    });
    child.stdin.end(text);
  });
}
