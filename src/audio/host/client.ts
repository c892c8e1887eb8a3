/**
 * Starts and talks to the audio host (./main.ts): one child process per hydra-chat process, shared by
 * the device list, the microphone and the speaker. Its stdout and stderr (naudiodon banners, alsa-lib
 * noise) are captured, never shown; PortAudio status lines surface as warnings. A stream's close asks
 * politely, then SIGKILLs the host after a second (a dead sound server blocks PortAudio's quit()).
 * After a device listing it lingers briefly (unref'd: it never keeps hydra-chat alive), so opening the
 * microphone right after reuses the same process; after its last stream closes it exits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HydraError } from '../../errors.js';
import type { DeviceList, FromHost, StreamSpec, ToHost } from './protocol.js';
import { RecordReader, type Record } from './wire.js';

export type StreamHandlers = {
  onRecord: (record: Record) => void;
  /** The stream failed after it opened, or the host died. */
  onLost: (why: string) => void;
  /** A PortAudio status line (e.g. output underflow), already trimmed. */
  onWarning?: ((line: string) => void) | undefined;
};

export const CLOSE_TIMEOUT_MS = 1000;
const LINGER_MS = 3000;

/** The compiled host script: next to this file when running from dist, else in dist. */
function hostScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, 'main.js');
  if (existsSync(sibling)) return sibling;
  const built = join(resolve(here, '../../..'), 'dist', 'src', 'audio', 'host', 'main.js');
  if (existsSync(built)) return built;
  throw new HydraError('audio-unavailable', `the audio host is not built (${built} missing)`, { hint: 'run npm run build' });
}

type Pending<T> = { resolve: (value: T) => void; reject: (why: string) => void };

export class AudioHost {
  private readonly child: ChildProcess;
  private readonly audio: Socket;
  private readonly lines: string[] = [];
  private readonly streams = new Map<number, StreamHandlers>();
  private readonly opening = new Map<number, Pending<void>>();
  private readonly closing = new Map<number, () => void>();
  private readonly listing: Pending<DeviceList>[] = [];
  private readonly gone: Promise<void>;
  private nextId = 1;
  private leases = 0;
  private linger: NodeJS.Timeout | null = null;
  private expectedExit = false;
  exited = false;

  constructor() {
    // naudiodon-adjacent code may write files (crash logs) into its working directory: give it a
    // scratch one, removed when the host ends.
    const cwd = mkdtempSync(join(tmpdir(), 'hydra-audio-'));
    this.child = fork(hostScript(), [], { cwd, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'ipc'], execArgv: hostExecArgv() });
    this.audio = this.child.stdio[3] as Socket;
    const reader = new RecordReader((record) => this.streams.get(record.stream)?.onRecord(record));
    this.audio.on('data', (chunk: Buffer) => reader.push(chunk));
    this.audio.on('error', () => undefined); // reported through 'exit'
    this.child.stdout?.on('data', (chunk: Buffer) => this.capture(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.capture(chunk));
    this.child.on('message', (message: FromHost) => this.onMessage(message));
    this.child.on('error', () => undefined); // reported through 'exit'
    this.gone = new Promise((resolveGone) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        rmSync(cwd, { recursive: true, force: true });
        if (this.linger) clearTimeout(this.linger);
        const why = signal ? `the audio host was killed (${signal})` : `the audio host exited (code ${code})`;
        const detail = this.lines.length ? `${why} — ${this.lines.at(-1)}` : why;
        for (const pending of [...this.opening.values(), ...this.listing]) pending.reject(detail);
        for (const done of this.closing.values()) done();
        if (!this.expectedExit) for (const stream of [...this.streams.values()]) stream.onLost(why);
        this.streams.clear();
        resolveGone();
      });
    });
  }

  /** Last lines the host printed, for error messages and --verbose. */
  output(): string[] {
    return [...this.lines];
  }

  /** Audio records to the host, in order with every other record. */
  sendAudio(record: Buffer): void {
    if (!this.exited) this.audio.write(record);
  }

  devices(): Promise<DeviceList> {
    return new Promise((resolveList, reject) => {
      this.listing.push({ resolve: resolveList, reject: (why) => reject(new HydraError('audio-unavailable', `could not list audio devices: ${why}`)) });
      this.send({ op: 'devices' });
    });
  }

  /** Opens a stream; rejects with the host's words (or why it died). */
  open(spec: StreamSpec, handlers: StreamHandlers): { id: number; opened: Promise<void> } {
    const id = this.nextId;
    this.nextId += 1;
    this.streams.set(id, handlers);
    const opened = new Promise<void>((resolveOpen, reject) => {
      this.opening.set(id, {
        resolve: resolveOpen,
        reject: (why) => {
          this.streams.delete(id);
          reject(new Error(why));
        },
      });
    });
    this.send({ op: 'open', stream: id, spec });
    return { id, opened };
  }

  /** Stops one stream: resolves once the host says so, or after a second by killing the host. */
  async closeStream(id: number): Promise<void> {
    this.streams.delete(id);
    if (this.exited) return;
    const closed = new Promise<void>((done) => this.closing.set(id, done));
    this.send({ op: 'close', stream: id });
    const timer = setTimeout(() => this.kill(), CLOSE_TIMEOUT_MS);
    await closed;
    clearTimeout(timer);
    this.closing.delete(id);
  }

  lease(): void {
    this.leases += 1;
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    this.setRef(true);
  }

  /** Done with the host. The last user ends it, at once or (`linger`) after a while, unref'd. */
  release(linger = false): void {
    this.leases -= 1;
    if (this.leases > 0 || this.exited) return;
    if (!linger) {
      void this.exit();
      return;
    }
    this.setRef(false);
    this.linger = setTimeout(() => void this.exit(), LINGER_MS);
    this.linger.unref();
  }

  /** Ends the host: politely, then by SIGKILL after a second. */
  async exit(): Promise<void> {
    this.expectedExit = true;
    if (current === this) current = null;
    if (this.exited) return;
    this.send({ op: 'exit' });
    const timer = setTimeout(() => this.kill(), CLOSE_TIMEOUT_MS);
    timer.unref();
    await this.gone;
    clearTimeout(timer);
  }

  kill(): void {
    if (current === this) current = null;
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private send(message: ToHost): void {
    if (!this.exited && this.child.connected) this.child.send(message);
  }

  private onMessage(message: FromHost): void {
    switch (message.ev) {
      case 'devices':
        this.listing.shift()?.resolve(message.list);
        break;
      case 'opened':
        this.opening.get(message.stream)?.resolve();
        this.opening.delete(message.stream);
        break;
      case 'closed':
        this.closing.get(message.stream)?.();
        break;
      case 'error': {
        if (message.stream === undefined) {
          for (const pending of [...this.opening.values(), ...this.listing.splice(0)]) pending.reject(message.message);
          this.opening.clear();
          break;
        }
        const opening = this.opening.get(message.stream);
        this.opening.delete(message.stream);
        if (opening) opening.reject(message.message);
        else this.streams.get(message.stream)?.onLost(message.message);
        break;
      }
    }
  }

  private capture(chunk: Buffer): void {
    for (const raw of chunk.toString('utf8').split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      this.lines.push(line);
      if (this.lines.length > 50) this.lines.shift();
      if (/portAudio status/i.test(line)) {
        const warning = line.replace(/^.*portAudio status -\s*/i, '');
        for (const stream of this.streams.values()) stream.onWarning?.(warning);
      }
    }
  }

  private setRef(on: boolean): void {
    const handles = [this.child, this.child.channel, this.child.stdout, this.child.stderr, this.audio] as ({ ref?(): void; unref?(): void } | null | undefined)[];
    for (const handle of handles) (on ? handle?.ref : handle?.unref)?.call(handle);
  }
}

let current: AudioHost | null = null;

/** The one audio host of this process (started if need be), leased: call release() when done with it. */
export function acquireHost(): AudioHost {
  if (!current || current.exited) current = new AudioHost();
  current.lease();
  return current;
}

/**
 * The host runs lean: V8's lite mode (interpreter only, lazily allocated feedback) saves ~4 MB of RSS and
 * costs nothing measurable here (the host's JS only moves buffers; PortAudio does the work). It has no
 * WebAssembly, so none is exposed (which also silences V8's warning about the pair).
 * `HYDRA_CHAT_AUDIO_HOST_PROF=<dir>` profiles the host (node --cpu-prof), for the bench and for us.
 */
function hostExecArgv(): string[] {
  const dir = process.env.HYDRA_CHAT_AUDIO_HOST_PROF;
  return ['--lite-mode', '--no-expose-wasm', ...(dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [])];
}
