/** The simulator as a child process (`hydra-chat simulate`), so it never shares an event loop with a client under test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './env.js';

export type SimulatorChild = { url: string; pid: number; child: ChildProcess; stop(): Promise<void> };

export async function startSimulatorChild(flags: string[], env: NodeJS.ProcessEnv = process.env): Promise<SimulatorChild> {
  const child = spawn(process.execPath, ['bin/hydra-chat.js', 'simulate', '--port', '0', ...flags], {
    cwd: ROOT,
    env: { ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errText = '';
  child.stderr!.on('data', (chunk: Buffer) => (errText += chunk.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${text} ${errText}`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /(ws:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${errText}`)));
  });
  child.stdout!.resume();
  return {
    url,
    pid: child.pid!,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
