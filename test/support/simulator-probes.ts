/**
 * A simulator per test with protocol probes on it (src/mock/probe.ts), all closed after each test, and
 * `turn`: one user turn (the hello fixture, then 800 ms of silence), read once per file.
 */
import { afterEach, beforeAll } from 'vitest';
import { connectProbe, readPcm16Wav, silence16k, type Probe } from '../../src/mock/probe.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/mock/server.js';

export type SimulatorProbes = {
  readonly turn: Buffer;
  /** Starts a simulator with the file's defaults and `options`, and connects a probe to it. */
  start(options: SimulatorOptions): Promise<Probe>;
  /** Another probe on the running simulator. */
  connect(): Promise<Probe>;
  /** Closes the probes and the simulator now (also done after each test). */
  close(): Promise<void>;
};

export function simulatorProbes(defaults: SimulatorOptions): SimulatorProbes {
  let simulator: Simulator | undefined;
  const probes: Probe[] = [];
  let turn = Buffer.alloc(0);

  const close = async (): Promise<void> => {
    for (const probe of probes.splice(0)) probe.socket.terminate();
    await simulator?.close();
    simulator = undefined;
  };
  const connect = async (): Promise<Probe> => {
    const probe = await connectProbe(simulator!.url, { model: 'hydra', api_key: 'k' });
    probes.push(probe);
    return probe;
  };

  beforeAll(async () => {
    turn = Buffer.concat([(await readPcm16Wav(new URL('../fixtures/hello-16k.wav', import.meta.url).pathname)).pcm, silence16k(800)]);
  });
  afterEach(close);

  return {
    get turn() {
      return turn;
    },
    async start(options) {
      simulator = await createSimulator({ ...defaults, ...options });
      return connect();
    },
    connect,
    close,
  };
}
