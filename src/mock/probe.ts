/**
 * A minimal raw `ws` client for exercising the simulator (tests, benches, smoke checks). It speaks
 * no protocol of its own: it records every frame and lets the caller wait for one, never by polling.
 */
import { readFile } from 'node:fs/promises';
import { WebSocket } from '../ws.js';

/** A received frame: parsed JSON object, or `{ type: '(not json)', text }`. */
export type Frame = Record<string, unknown> & { type?: unknown };

/** A connected probe. */
export type Probe = {
  readonly socket: WebSocket;
  /** Every frame received, in order. */
  readonly frames: Frame[];
  send(frame: object | string): void;
  /** The first frame (at index ≥ `after`) matching a type or predicate; rejects after `timeoutMs`. */
  waitFor(match: string | ((frame: Frame) => boolean), options?: { after?: number; timeoutMs?: number }): Promise<Frame>;
  /** Frames of one type received so far. */
  ofType(type: string): Frame[];
  /** Resolves when the socket closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
};

/** Connect to `url` with extra query params; rejects with `{ status }` when the upgrade is refused. */
export function connectProbe(url: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Probe> {
  const target = new URL(url);
  for (const [key, value] of Object.entries(query)) target.searchParams.set(key, value);
  const socket = new WebSocket(target, { headers });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    frames.push(parseFrame(data.toString()));
    for (const waiter of [...waiters]) waiter();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const waiter of [...waiters]) waiter();
    });
  });
  const probe: Probe = {
    socket,
    frames,
    closed,
    send: (frame) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    ofType: (type) => frames.filter((frame) => frame.type === type),
    close: () => socket.close(),
    waitFor(match, options = {}) {
      const test = typeof match === 'string' ? (frame: Frame) => frame.type === match : match;
      const after = options.after ?? 0;
      const timeoutMs = options.timeoutMs ?? 5000;
      return new Promise<Frame>((resolve, reject) => {
        const check = (): void => {
          const found = frames.slice(after).find(test);
          if (found) finish(() => resolve(found));
          else if (socket.readyState === socket.CLOSED) finish(() => reject(new Error(`socket closed before ${describe(match)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${describe(match)}`))), timeoutMs);
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
  };
  return new Promise<Probe>((resolve, reject) => {
    socket.once('open', () => resolve(probe));
    socket.once('unexpected-response', (_request, response) => {
      reject(Object.assign(new Error(`upgrade refused with HTTP ${response.statusCode}`), { status: response.statusCode, headers: response.headers }));
      response.resume();
      socket.terminate();
    });
    socket.on('error', (error) => reject(error)); // settles once; later errors end in 'close'
  });
}

function describe(match: string | ((frame: Frame) => boolean)): string {
  return typeof match === 'string' ? match : 'a matching frame';
}

function parseFrame(text: string): Frame {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Frame;
  } catch {
    // reported as not json below
  }
  return { type: '(not json)', text };
}

/** Send 16 kHz PCM16 as `input_audio_buffer.append` frames of `frameMs` (as fast as the socket takes them). */
export function sendPcm(probe: Probe, pcm: Buffer, frameMs = 40): void {
  const size = 32 * frameMs;
  for (let offset = 0; offset < pcm.length; offset += size) {
    let chunk = pcm.subarray(offset, offset + size);
    if (chunk.length < 320) chunk = Buffer.concat([chunk, Buffer.alloc(320 - chunk.length)]);
    probe.send({ type: 'input_audio_buffer.append', audio: chunk.toString('base64') });
  }
}

/** Zeroed 16 kHz PCM16 of `ms`. */
export { silence as silence16k } from '../audio/pcm.js';

/** The PCM16 samples of a 16-bit PCM WAV file (no conversion; callers pass 16 kHz mono files). */
export async function readPcm16Wav(path: string): Promise<{ sampleRate: number; channels: number; pcm: Buffer }> {
  const file = await readFile(path);
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let sampleRate = 0;
  let channels = 0;
  for (let offset = 12; offset + 8 <= file.length; ) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channels = file.readUInt16LE(offset + 10);
      sampleRate = file.readUInt32LE(offset + 12);
      if (file.readUInt16LE(offset + 22) !== 16) throw new Error(`${path}: not 16-bit PCM`);
    }
    if (id === 'data') return { sampleRate, channels, pcm: file.subarray(offset + 8, Math.min(file.length, offset + 8 + size)) };
    offset += 8 + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}
