/** §6 start-up: `--help` wall time, and process start → first `input_audio_buffer.append` on stdout. */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../lib/env.js';

/** Wall time from spawn to exit of `node <args>`, `runs` times (one unmeasured warm-up first). */
export async function wallTimes(args: string[], runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i <= runs; i += 1) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore'] });
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
    if (i > 0) times.push(performance.now() - t0);
  }
  return times;
}

/**
 * Spawn → the first stdout line mentioning an audio append; the process is then killed (SIGKILL).
 * `firstLine` holds spawn → the first stdout line of any kind (module loading done).
 */
export async function firstFrameTimes(args: string[], runs: number, env: NodeJS.ProcessEnv = process.env, firstLine: number[] = []): Promise<number[]> {
  const times: number[] = [];
  const lines: number[] = [];
  for (let i = 0; i <= runs; i += 1) {
    const t0 = performance.now();
    const ms = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      let found = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no audio frame within 10 s from node ${args.join(' ')}`));
      }, 10_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        if (found) return;
        if (text === '') lines.push(performance.now() - t0);
        text += chunk.toString('utf8');
        if (text.includes('"input_audio_buffer.append"')) {
          found = true;
          const at = performance.now() - t0;
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve(at);
        }
      });
      child.once('error', reject);
    });
    if (i > 0) times.push(ms);
    else lines.length = 0;
  }
  firstLine.push(...lines);
  return times;
}

/** Time to import each module alone in a fresh process (they share dependencies, so they do not add up). */
export async function importTimes(modules: string[]): Promise<{ module: string; ms: number }[]> {
  const out: { module: string; ms: number }[] = [];
  for (const module of modules) {
    const text = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(module)}); process.stdout.write(String(performance.now() - t));`], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let s = '';
      child.stdout!.on('data', (c: Buffer) => (s += c.toString('utf8')));
      child.once('exit', () => resolve(s));
    });
    const ms = Number(text);
    if (Number.isFinite(ms) && text !== '') out.push({ module, ms });
  }
  return out;
}
