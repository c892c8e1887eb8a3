/** `hydra-chat simulate`: the stand-alone simulator command, driven through commander in-process. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { HydraError } from '../src/errors.js';
import { runSimulateCommand, registerSimulateCommand } from '../src/mock/command.js';
import { connectProbe, readPcm16Wav, sendPcm, silence16k } from '../src/mock/probe.js';

function run(args: string[]): { line: Promise<string>; done: Promise<unknown>; controller: AbortController } {
  const controller = new AbortController();
  let resolveLine!: (line: string) => void;
  const line = new Promise<string>((resolve) => (resolveLine = resolve));
  const program = new Command().exitOverride();
  registerSimulateCommand(program, { log: (text) => resolveLine(text) }, controller.signal);
  const done = program.parseAsync(['node', 'hydra-chat', 'simulate', ...args]);
  return { line, done, controller };
}

describe('simulate command', () => {
  it('prints where it listens, enforces --api-key, applies --rules, and stops on abort', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hydra-sim-'));
    const rulesPath = join(dir, 'rules.json');
    await writeFile(rulesPath, JSON.stringify({ rules: [{ turn: 1, calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] }] }));
    const { line, done, controller } = run(['--port', '0', '--api-key', 'sim-key', '--idle-timeout', '5000', '--rules', rulesPath, '--profile', 'aug-2026']);
    const text = await line;
    const url = /^Hydra simulator listening on (ws:\/\/127\.0\.0\.1:\d+\/waves\/v1\/s2s)$/.exec(text)?.[1];
    expect(url).toBeDefined();
    expect(text).not.toContain('sim-key');
    const refused = await connectProbe(url!, { api_key: 'nope' }).then(
      () => 0,
      (error: { status: number }) => error.status,
    );
    expect(refused).toBe(401);
    const probe = await connectProbe(url!, { model: 'hydra-v1.0', api_key: 'sim-key' });
    probe.send({ type: 'session.configure', session: {} });
    expect((await probe.waitFor('session.configured')).session).toMatchObject({ voice: 'sterling' });
    controller.abort();
    await done;
    expect((await probe.closed).code).toBe(1001);
    await expect(connectProbe(url!, { api_key: 'sim-key' })).rejects.toThrow();
  });

  it('--profile aug-2026-probe rejects reed on model=hydra; --no-auto-tools keeps declared tools uncalled', async () => {
    const { line, done, controller } = run(['--port', '0', '--profile', 'aug-2026-probe', '--no-auto-tools']);
    const url = /listening on (\S+)$/.exec(await line)![1]!;
    const probe = await connectProbe(url, { model: 'hydra', api_key: 'k' });
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} } }];
    probe.send({ type: 'session.configure', session: { voice: 'reed', tools } });
    expect((await probe.waitFor('session.configured')).session).toMatchObject({ voice: 'sterling' });
    expect(probe.ofType('error')[0]).toMatchObject({ error: { code: 'invalid_request_error', param: 'session.configure.session.voice' } });
    const hello = await readPcm16Wav(new URL('./fixtures/hello-16k.wav', import.meta.url).pathname);
    sendPcm(probe, Buffer.concat([hello.pcm, silence16k(800)]));
    await probe.waitFor('response.done');
    expect(probe.ofType('response.function_call_arguments.done')).toEqual([]);
    controller.abort();
    await done;
  });

  it('rejects bad option values with a usage HydraError', async () => {
    const signal = AbortSignal.abort();
    const out = { log: () => undefined };
    await expect(runSimulateCommand({ port: 'eighty' }, signal, out)).rejects.toMatchObject({ code: 'usage' });
    await expect(runSimulateCommand({ profile: 'jan-2027' }, signal, out)).rejects.toBeInstanceOf(HydraError);
    await expect(runSimulateCommand({ profile: 'jan-2027' }, signal, out)).rejects.toThrow(/may-2026, aug-2026, aug-2026-probe/);
    await expect(runSimulateCommand({ rules: '/nonexistent/rules.json' }, signal, out)).rejects.toMatchObject({ code: 'config-invalid' });
    // A factor so small that a chunk's delay overflows Node's timer would deliver at once instead.
    for (const factor of ['1e-12', '0.001', '1e9']) {
      await expect(runSimulateCommand({ realtimeFactor: factor }, signal, out)).rejects.toThrow(`--realtime-factor must be a number from 0.01 to 10000, not '${factor}'`);
    }
    await expect(runSimulateCommand({ realtimeFactor: '0.01' }, signal, out)).resolves.toBeUndefined();
  });
});
