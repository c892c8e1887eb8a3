/**
 * The audio host: one child process that owns every naudiodon stream of a hydra-chat process (the
 * device list, the microphone, the speaker). It exists because naudiodon prints banners on stdout, can
 * block its process forever when the sound server dies, and plays out its whole native queue on quit:
 * in a child, its output is captured by the parent and a hang is ended with SIGKILL.
 *
 * Control (open/close/devices/errors) arrives on the IPC channel; audio travels as binary records on
 * fd 3 (./wire.ts), batched by ./outbox.ts (a playback ack rides with the next mic chunk). Kept lean on
 * purpose: no imports beyond Node and these few small modules.
 */
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { Outbox } from './outbox.js';
import { OutputStream, type NativeStream } from './output.js';
import type { DeviceInfo, DeviceList, FromHost, StreamSpec, ToHost } from './protocol.js';
import { clockMs, Kind, RecordReader } from './wire.js';

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
const die = (): void => void process.kill(process.pid, 'SIGKILL');
process.on('disconnect', die);

const audio = new Socket({ fd: 3, readable: true, writable: true });
audio.on('error', die);
audio.on('end', die);
// Playback acks ride with the next mic chunk: one write, one wake-up of the parent per period.
const outbox = new Outbox((bytes) => void audio.write(bytes));

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

type Stream = { close(): Promise<void> };
const streams = new Map<number, Stream>();
const outputs = new Map<number, OutputStream>();

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

function open(id: number, spec: StreamSpec): void {
  const options = {
    channelCount: spec.channels,
    sampleFormat: 16,
    sampleRate: spec.sampleRate,
    deviceId: spec.deviceId,
    closeOnError: false,
    framesPerBuffer: spec.chunkFrames,
  };
  const fail = (message: string): void => {
    streams.delete(id);
    outputs.delete(id);
    send({ ev: 'error', stream: id, message });
  };
  if (spec.direction === 'in') {
    const bytes = spec.chunkFrames * spec.channels * 2;
    const native = addon.create({ inOptions: { ...options, highwaterMark: bytes, maxQueue: 16 } });
    native.start();
    let running = true;
    outbox.inputOpened();
    streams.set(id, {
      close: async () => {
        if (running) outbox.inputClosed();
        running = false;
        await native.quit('WAIT');
      },
    });
    void (async () => {
      while (running) {
        const result = await native.read(bytes);
        if (!running) break;
        if (result.err) {
          running = false;
          outbox.inputClosed();
          return fail(`microphone: ${String(result.err)}`);
        }
        if (result.finished || !result.buf) break;
        outbox.input(id, clockMs(), result.buf);
      }
    })();
  } else {
    const native = addon.create({ outOptions: { ...options, maxQueue: 1 } });
    native.start();
    const output = new OutputStream(native, id, spec.sampleRate, spec.chunkFrames, outbox, fail);
    streams.set(id, output);
    outputs.set(id, output);
  }
  send({ ev: 'opened', stream: id });
}

async function close(id: number): Promise<void> {
  const stream = streams.get(id);
  streams.delete(id);
  outputs.delete(id);
  await stream?.close();
  send({ ev: 'closed', stream: id });
}

const reader = new RecordReader((record) => {
  const output = outputs.get(record.stream);
  if (record.kind === Kind.write) output?.write(record.a, record.payload);
  else if (record.kind === Kind.flush) output?.flush(record.a);
});
audio.on('data', (chunk: Buffer) => reader.push(chunk));

process.on('message', (message: ToHost) => {
  const stream = 'stream' in message ? message.stream : undefined;
  try {
    switch (message.op) {
      case 'devices':
        send({ ev: 'devices', list: listDevices() });
        break;
      case 'open':
        open(message.stream, message.spec);
        break;
      case 'close':
        void close(message.stream);
        break;
      case 'exit':
        void Promise.all([...streams.keys()].map(close)).then(() => process.exit(0));
        break;
    }
  } catch (error) {
    send({ ev: 'error', ...(stream === undefined ? {} : { stream }), message: error instanceof Error ? error.message : String(error) });
  }
});
