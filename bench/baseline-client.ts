/**
 * The bench's baseline: a Hydra client written the way vendor examples are written, to measure
 * hydra-chat against in the same run. Never shipped, never imported by src/.
 *
 *  - `ws`, one message handler with a switch on `type`;
 *  - microphone frames paced by a per-frame `setInterval(frameMs)` (from a WAV, or from a queue that
 *    the device fills); no drift correction, no catch-up;
 *  - every `response.output_audio.delta` pushed straight into one big queue on the speaker (the
 *    naudiodon addon's own queue in a plain child, `maxQueue` large), no jitter buffer, no pacing;
 *  - barge-in (`speech_started`) flushes by dropping the JS queue only, which is empty: what the addon
 *    already holds plays out;
 *  - tool calls: run the handler on `…arguments.done`, send the output, `response.create` 200 ms after
 *    the last output (the protocol's debounce, same as hydra-chat).
 *
 * Usable in-process (`startBaseline`) and as a CLI (`node bench/.build/baseline-client.mjs --url … --input
 * x.wav --output y.wav [--json]`), transpiled by bench/run.ts so that it starts as plain JS.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export type BaselineFrame = { dir: 'in' | 'out'; type: string; at: number; frame: Record<string, unknown> };

/** Where the baseline plays: write() as deltas arrive, flush() on barge-in. */
export type BaselineSink = {
  write(pcm: Buffer): void;
  flush(): void;
  close(): Promise<void>;
};

export type BaselineSource =
  | { kind: 'pcm'; pcm: Buffer }
  /** Frames pushed by a device or a script; `pace` false sends them on arrival (for accelerated input). */
  | { kind: 'push'; start(onFrame: (pcm: Buffer, at: number) => void): void; stop(): void; pace: boolean };

export type BaselineOptions = {
  url: string;
  apiKey?: string;
  model?: string;
  session?: Record<string, unknown>;
  frameMs?: number;
  source: BaselineSource;
  sink?: BaselineSink | null;
  tools?: Record<string, (args: string) => string | Promise<string>>;
  onSentFrame?: (pcm: Buffer, capturedAt: number, sentAt: number) => void;
  observe?: (frame: BaselineFrame) => void;
  /** Print every frame (audio elided) as NDJSON on stdout, like hydra-chat --json. */
  json?: boolean;
};

export type Baseline = {
  /** Resolves once the socket has closed. */
  done: Promise<void>;
  /** Resolves when a WAV source has been sent entirely. */
  inputEnded: Promise<void>;
  /** True while a response is in flight. */
  busy(): boolean;
  close(): void;
};

export function startBaseline(options: BaselineOptions): Baseline {
  const frameMs = options.frameMs ?? 20;
  const frameBytes = (16000 * frameMs * 2) / 1000;
  const url = new URL(options.url);
  url.searchParams.set('model', options.model ?? 'hydra');
  url.searchParams.set('api_key', options.apiKey ?? 'bench-key');
  const ws = new WebSocket(url.toString());
  let endInput!: () => void;
  const inputEnded = new Promise<void>((resolve) => (endInput = resolve));
  const done = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  ws.on('error', () => undefined);

  let interval: NodeJS.Timeout | null = null;
  const micQueue: { pcm: Buffer; at: number }[] = [];
  let offset = 0;
  let inFlight = 0;
  const toolOutputs: Promise<void>[] = [];
  let debounce: NodeJS.Timeout | null = null;

  const send = (frame: Record<string, unknown>): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(frame));
    const at = performance.now();
    if (options.observe) options.observe({ dir: 'out', type: String(frame.type), at, frame });
    if (options.json) {
      const logged = frame.type === 'input_audio_buffer.append' ? { ...frame, audio: `<${frameBytes} bytes>` } : frame;
      process.stdout.write(`${JSON.stringify({ type: 'frame', direction: 'out', frame: logged, at })}\n`);
    }
  };

  const sendAudio = (pcm: Buffer, capturedAt: number): void => {
    send({ type: 'input_audio_buffer.append', audio: pcm.toString('base64') });
    options.onSentFrame?.(pcm, capturedAt, performance.now());
  };

  const startMic = (): void => {
    const source = options.source;
    if (source.kind === 'pcm') {
      // The example way: one frame per setInterval tick, read from the file, silence after it.
      interval = setInterval(() => {
        const frame = Buffer.alloc(frameBytes);
        if (offset < source.pcm.length) {
          source.pcm.copy(frame, 0, offset, Math.min(source.pcm.length, offset + frameBytes));
          offset += frameBytes;
          if (offset >= source.pcm.length) endInput();
        }
        sendAudio(frame, performance.now());
      }, frameMs);
      return;
    }
    if (!source.pace) {
      source.start((pcm, at) => sendAudio(pcm, at));
      return;
    }
    // Device data goes into a queue; one frame leaves per tick.
    let pending = Buffer.alloc(0);
    source.start((pcm, at) => {
      pending = Buffer.concat([pending, pcm]);
      while (pending.length >= frameBytes) {
        micQueue.push({ pcm: pending.subarray(0, frameBytes), at });
        pending = pending.subarray(frameBytes);
      }
    });
    interval = setInterval(() => {
      const next = micQueue.shift();
      if (next) sendAudio(next.pcm, next.at);
    }, frameMs);
  };

  const runTool = async (callId: string, name: string, args: string): Promise<void> => {
    let output: string;
    try {
      const handler = options.tools?.[name];
      output = handler ? await handler(args) : JSON.stringify({ error: `no handler for ${name}` });
    } catch (error) {
      output = JSON.stringify({ error: error instanceof Error ? error.message : String(error) });
    }
    send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } });
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = null;
      send({ type: 'response.create' });
    }, 200);
  };

  ws.on('message', (data) => {
    const at = performance.now();
    const message = JSON.parse(data.toString()) as Record<string, unknown> & { type: string };
    options.observe?.({ dir: 'in', type: message.type, at, frame: message });
    if (options.json) {
      const logged = message.type === 'response.output_audio.delta' ? { ...message, delta: '<audio>' } : message;
      process.stdout.write(`${JSON.stringify({ type: 'frame', direction: 'in', frame: logged, at })}\n`);
    }
    switch (message.type) {
      case 'session.created':
        send({ type: 'session.configure', session: { voice: 'wren', ...(options.session ?? {}) } });
        break;
      case 'session.configured':
        startMic();
        break;
      case 'input_audio_buffer.speech_started':
        options.sink?.flush();
        break;
      case 'response.created':
        inFlight += 1;
        break;
      case 'response.done':
        inFlight = Math.max(0, inFlight - 1);
        break;
      case 'response.output_audio.delta':
        options.sink?.write(Buffer.from(message.delta as string, 'base64'));
        break;
      case 'response.function_call_arguments.done':
        toolOutputs.push(runTool(message.call_id as string, message.name as string, message.arguments as string));
        break;
      default:
        break;
    }
  });

  return {
    done,
    inputEnded,
    busy: () => inFlight > 0 || debounce !== null,
    close() {
      if (interval) clearInterval(interval);
      if (options.source.kind === 'push') options.source.stop();
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    },
  };
}

// ── Audio through the plain naudiodon child ─────────────────────────────────────────────────────

function audioChildScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = basename(here) === '.build' ? here : join(here, '.build');
  const script = join(dir, 'baseline-audio.mjs');
  if (!existsSync(script)) throw new Error(`${script} missing: bench/run.ts transpiles it`);
  return script;
}

type ChildMessage = { ev: 'opened' } | { ev: 'error'; message: string } | { ev: 'ack'; bytes: number; hrtime: bigint } | { ev: 'data'; pcm: Uint8Array; hrtime: bigint };

const hrToPerf = (hrtime: bigint): number => performance.now() - Number(process.hrtime.bigint() - hrtime) / 1e6;

async function openChild(spec: Record<string, unknown>, onMessage: (message: ChildMessage) => void): Promise<ChildProcess> {
  const child = fork(audioChildScript(), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [], cwd: '/tmp' });
  child.stdout?.resume();
  child.stderr?.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('baseline audio child did not open in 5 s')), 5000);
    child.on('message', (message: ChildMessage) => {
      if (message.ev === 'opened') {
        clearTimeout(timer);
        resolve();
      } else if (message.ev === 'error') {
        clearTimeout(timer);
        reject(new Error(message.message));
      } else onMessage(message);
    });
    child.once('exit', (code) => reject(new Error(`baseline audio child exited (${code})`)));
    child.send({ op: 'open', spec });
  });
  return child;
}

async function closeChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ op: 'close' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
  await exited;
  clearTimeout(timer);
}

/** A speaker with one big queue: the addon's. `onHanded(bytes, at)` when a write was accepted by it. */
export type BaselineSpeaker = BaselineSink & { onHanded?: (bytes: number, at: number) => void; readonly pid: number | undefined };

export async function openBaselineSpeaker(deviceId: number, sampleRate: number): Promise<BaselineSpeaker> {
  let speaker: BaselineSpeaker | null = null;
  let jsQueue: Buffer[] = [];
  const child = await openChild({ direction: 'out', deviceId, sampleRate, maxQueue: 100_000 }, (message) => {
    if (message.ev === 'ack') speaker?.onHanded?.(message.bytes, hrToPerf(message.hrtime));
  });
  speaker = {
    pid: child.pid,
    write(pcm) {
      jsQueue.push(pcm);
      // Straight through: nothing waits in the JS queue.
      for (const chunk of jsQueue.splice(0)) child.send({ op: 'write', pcm: chunk });
    },
    flush() {
      jsQueue = []; // the only queue the example owns; the addon's keeps playing
    },
    close: () => closeChild(child),
  };
  return speaker;
}

/** The microphone as the addon delivers it: chunks of `highwaterMark` bytes, stamped in the child. */
export async function openBaselineMic(deviceId: number): Promise<BaselineSource & { kind: 'push'; close(): Promise<void>; readonly pid: number | undefined }> {
  let listener: ((pcm: Buffer, at: number) => void) | null = null;
  const child = await openChild({ direction: 'in', deviceId, sampleRate: 16000, highwaterMark: 640 }, (message) => {
    if (message.ev === 'data' && listener) listener(Buffer.from(message.pcm.buffer, message.pcm.byteOffset, message.pcm.byteLength), hrToPerf(message.hrtime));
  });
  return {
    kind: 'push',
    pace: true,
    pid: child.pid,
    start(onFrame) {
      listener = onFrame;
    },
    stop() {
      listener = null;
    },
    close: () => closeChild(child),
  };
}

// ── CLI ─────────────────────────────────────────────────────────────────────────────────────────

/** 16 kHz mono PCM16 from a WAV (the bench's fixtures; the example way: find the data chunk). */
export function readWav16k(path: string): Buffer {
  const file = readFileSync(path);
  let at = 12;
  while (at + 8 <= file.length) {
    const id = file.toString('ascii', at, at + 4);
    const size = file.readUInt32LE(at + 4);
    if (id === 'data') return file.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}

function wavHeader(dataBytes: number, rate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  if (argv.includes('--help')) {
    process.stdout.write('usage: baseline-client --url <ws-url> (--input <wav> [--output <wav>] [--json] [--trailing-silence <ms>] | --live)\n');
    return;
  }
  const url = arg('--url');
  const input = arg('--input');
  if (url && argv.includes('--live')) {
    // The default microphone and speaker, until SIGINT.
    const mic = await openBaselineMic(-1);
    const speaker = await openBaselineSpeaker(-1, 48000);
    const client = startBaseline({ url, source: mic, sink: speaker });
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    client.close();
    await Promise.race([client.done, new Promise((resolve) => setTimeout(resolve, 1000))]);
    await Promise.all([mic.close(), speaker.close()]);
    process.exit(0);
  }
  if (!url || !input) throw new Error('--url and --input are required');
  const output = arg('--output');
  const trailing = Number(arg('--trailing-silence') ?? 2000);
  const received: Buffer[] = [];
  const sink: BaselineSink = { write: (pcm) => void received.push(pcm), flush: () => undefined, close: async () => undefined };
  const client = startBaseline({ url, source: { kind: 'pcm', pcm: readWav16k(input) }, sink, json: argv.includes('--json') });
  await client.inputEnded;
  await new Promise((resolve) => setTimeout(resolve, trailing));
  while (client.busy()) await new Promise((resolve) => setTimeout(resolve, 50));
  client.close();
  await client.done;
  if (output) {
    const pcm = Buffer.concat(received);
    writeFileSync(output, Buffer.concat([wavHeader(pcm.length, 48000), pcm]));
  }
}

if (process.argv[1] && basename(process.argv[1]).startsWith('baseline-client')) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`baseline-client: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
