/**
 * The audio host: a child process that owns exactly one naudiodon stream (or lists devices once).
 * It exists because naudiodon prints banners on stdout, can block its process forever when the sound
 * server dies, and plays out its whole native queue on quit: in a child, its output is captured by
 * the parent, a hang is ended with SIGKILL, and the queue we keep here stays ≤ one chunk ahead.
 *
 * Output: a loop writes one chunk at a time (maxQueue 1, so each write returns when PortAudio has
 * room), taking queued audio or silence, and acks each chunk. Flush empties the queue at once.
 */
import { createRequire } from 'node:module';
import type { DeviceInfo, DeviceList, FromHost, StreamSpec, ToHost } from './protocol.js';

type NativeStream = {
  start(): void;
  read(bytes: number): Promise<{ err?: unknown; finished?: boolean; buf?: Buffer }>;
  write(chunk: Buffer): Promise<unknown>;
  quit(mode: 'WAIT' | 'ABORT'): Promise<void>;
};
type Addon = {
  getDevices(): DeviceInfo[];
  getHostAPIs(): { defaultHostAPI: number; HostAPIs: { id: number; defaultInput: number; defaultOutput: number }[] };
  create(options: Record<string, unknown>): NativeStream;
};

const send = (message: FromHost): void => {
  process.send?.(message);
};

// The parent going away (crash, SIGKILL) must take the host with it; exit() can block in a dead
// PortAudio, a default-action SIGKILL cannot.
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));

let addon: Addon;
try {
  const require = createRequire(import.meta.url);
  // The addon itself, not naudiodon's JS wrapper: the wrapper installs a crash handler that writes
  // crash.log into the working directory, and its abort() is broken. HYDRA_CHAT_NAUDIODON points
  // at another build of the addon (unusual installs).
  addon = require(process.env.HYDRA_CHAT_NAUDIODON ?? require.resolve('naudiodon/build/Release/naudiodon.node')) as Addon;
} catch (error) {
  const message = `cannot load naudiodon: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  process.send?.({ ev: 'error', message } satisfies FromHost, () => process.exit(3));
  // Nothing below runs usefully without the addon; wait for the message to go out.
  await new Promise(() => undefined);
}

let stream: NativeStream | null = null;
let running = false;
let epoch = 0;
let queue: Buffer[] = [];
let chunkBytes = 0;

function listDevices(): DeviceList {
  const devices = addon.getDevices().map((d) => ({
    id: d.id,
    name: d.name,
    hostAPIName: d.hostAPIName,
    maxInputChannels: d.maxInputChannels,
    maxOutputChannels: d.maxOutputChannels,
    defaultSampleRate: d.defaultSampleRate,
  }));
  const apis = addon.getHostAPIs();
  const api = apis.HostAPIs.find((a) => a.id === apis.defaultHostAPI);
  const known = (id: number | undefined): number | null => (id !== undefined && devices.some((d) => d.id === id) ? id : null);
  return { devices, defaultInput: known(api?.defaultInput), defaultOutput: known(api?.defaultOutput) };
}

function open(spec: StreamSpec): void {
  chunkBytes = spec.chunkFrames * spec.channels * 2;
  const options = {
    channelCount: spec.channels,
    sampleFormat: 16,
    sampleRate: spec.sampleRate,
    deviceId: spec.deviceId,
    closeOnError: false,
    framesPerBuffer: spec.chunkFrames,
  };
  stream =
    spec.direction === 'in'
      ? addon.create({ inOptions: { ...options, highwaterMark: chunkBytes, maxQueue: 16 } })
      : addon.create({ outOptions: { ...options, maxQueue: 1 } });
  stream.start();
  running = true;
  send({ ev: 'opened' });
  if (spec.direction === 'in') void readLoop(stream);
  else void writeLoop(stream);
}

async function readLoop(input: NativeStream): Promise<void> {
  while (running) {
    const result = await input.read(chunkBytes);
    if (!running) break;
    if (result.err) {
      send({ ev: 'error', message: `microphone: ${String(result.err)}` });
      break;
    }
    if (result.finished || !result.buf) break;
    send({ ev: 'data', pcm: result.buf, hrtime: process.hrtime.bigint() });
  }
}

/** Takes one chunk of queued audio (padded with silence), or null when nothing is queued. */
function takeChunk(): { chunk: Buffer; audioBytes: number } {
  const chunk = Buffer.alloc(chunkBytes);
  let filled = 0;
  while (filled < chunkBytes && queue.length > 0) {
    const head = queue[0]!;
    const n = Math.min(head.length, chunkBytes - filled);
    head.copy(chunk, filled, 0, n);
    filled += n;
    if (n === head.length) queue.shift();
    else queue[0] = head.subarray(n);
  }
  return { chunk, audioBytes: filled };
}

/** While only silence plays, an ack this often is enough for the parent's watchdog. */
const SILENT_ACK_EVERY_NS = 100_000_000n;

async function writeLoop(output: NativeStream): Promise<void> {
  let lastAck = 0n;
  while (running) {
    const chunkEpoch = epoch;
    const { chunk, audioBytes } = takeChunk();
    // "Handed to PortAudio" is now; write() resolves once PortAudio has room for the next chunk.
    const handed = process.hrtime.bigint();
    const error = await output.write(chunk);
    if (!running) break;
    if (error) {
      send({ ev: 'error', message: `speaker: ${String(error)}` });
      break;
    }
    const now = process.hrtime.bigint();
    if (audioBytes === 0 && now - lastAck < SILENT_ACK_EVERY_NS) continue;
    lastAck = now;
    send({ ev: 'ack', audioBytes, epoch: chunkEpoch, hrtime: handed });
  }
}

async function close(): Promise<void> {
  running = false;
  queue = [];
  // With at most one chunk in PortAudio's queue, WAIT returns within a chunk or two.
  if (stream) await stream.quit('WAIT');
  send({ ev: 'closed' });
  process.disconnect?.();
  process.exit(0);
}

process.on('message', (message: ToHost) => {
  try {
    switch (message.op) {
      case 'devices':
        send({ ev: 'devices', list: listDevices() });
        process.disconnect?.();
        break;
      case 'open':
        open(message.spec);
        break;
      case 'write':
        if (message.epoch === epoch) queue.push(Buffer.from(message.pcm.buffer, message.pcm.byteOffset, message.pcm.byteLength));
        break;
      case 'flush':
        epoch = message.epoch;
        queue = [];
        break;
      case 'close':
        void close();
        break;
    }
  } catch (error) {
    send({ ev: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});
