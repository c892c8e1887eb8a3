/**
 * The baseline's audio: a plain child process that talks to the naudiodon addon the way the library's
 * examples do, with none of hydra-chat's audio host design: the output stream gets every delta as it
 * arrives, straight into naudiodon's native queue (a large `maxQueue`, like writing a whole reply into
 * AudioIO's Writable), and never hears about a flush; the input stream is read in naudiodon's own
 * chunks. It is a child only so that the addon's stdout banners stay out of the bench's table and a hung
 * `quit()` can be ended with SIGKILL. Never shipped: bench only (transpiled to bench/.build/*.mjs).
 *
 * Messages in:  { op: 'open', direction, deviceId, sampleRate, maxQueue?, highwaterMark? } | { op: 'write', pcm } | { op: 'close' }
 * Messages out: { ev: 'opened' } | { ev: 'ack', bytes, hrtime } | { ev: 'data', pcm, hrtime } | { ev: 'error', message }
 */
import { createRequire } from 'node:module';

type NativeStream = {
  start(): void;
  read(bytes: number): Promise<{ err?: unknown; finished?: boolean; buf?: Buffer }>;
  write(chunk: Buffer): Promise<unknown>;
  quit(mode: 'WAIT' | 'ABORT'): Promise<void>;
};
type Addon = { create(options: Record<string, unknown>): NativeStream };

type OpenSpec = { direction: 'in' | 'out'; deviceId: number; sampleRate: number; maxQueue?: number; highwaterMark?: number };
type Message = { op: 'open'; spec: OpenSpec } | { op: 'write'; pcm: Uint8Array } | { op: 'close' };

const send = (message: Record<string, unknown>): void => {
  process.send?.(message);
};
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));

const require = createRequire(import.meta.url);
const addon = require(require.resolve('naudiodon/build/Release/naudiodon.node')) as Addon;

let stream: NativeStream | null = null;
let running = false;
let writing: Promise<unknown> = Promise.resolve();

function open(spec: OpenSpec): void {
  const common = { channelCount: 1, sampleFormat: 16, sampleRate: spec.sampleRate, deviceId: spec.deviceId, closeOnError: false };
  if (spec.direction === 'out') {
    // Everything written goes into naudiodon's own queue at once (a whole reply fits).
    stream = addon.create({ outOptions: { ...common, maxQueue: spec.maxQueue ?? 100_000 } });
  } else {
    stream = addon.create({ inOptions: { ...common, highwaterMark: spec.highwaterMark ?? 640 } });
  }
  stream.start();
  running = true;
  send({ ev: 'opened' });
  if (spec.direction === 'in') void readLoop(stream, spec.highwaterMark ?? 640);
}

async function readLoop(input: NativeStream, bytes: number): Promise<void> {
  while (running) {
    const result = await input.read(bytes);
    if (!running) break;
    if (result.err) {
      send({ ev: 'error', message: String(result.err) });
      break;
    }
    if (result.finished || !result.buf) break;
    send({ ev: 'data', pcm: result.buf, hrtime: process.hrtime.bigint() });
  }
}

process.on('message', (message: Message) => {
  switch (message.op) {
    case 'open':
      try {
        open(message.spec);
      } catch (error) {
        send({ ev: 'error', message: error instanceof Error ? error.message : String(error) });
      }
      break;
    case 'write': {
      const output = stream;
      if (!output) break;
      const pcm = Buffer.from(message.pcm.buffer, message.pcm.byteOffset, message.pcm.byteLength);
      // In order, never awaited by the sender: the native queue takes it all.
      writing = writing.then(async () => {
        await output.write(pcm);
        send({ ev: 'ack', bytes: pcm.length, hrtime: process.hrtime.bigint() });
      });
      break;
    }
    case 'close':
      running = false;
      // quit() would play out the whole native queue first; the bench does not wait for that.
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300);
      void stream?.quit('ABORT').then(() => process.exit(0));
      if (!stream) process.exit(0);
      break;
  }
});
