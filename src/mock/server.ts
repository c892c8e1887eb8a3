/**
 * The local Hydra simulator: a `ws` server speaking hydra-protocol.md, used by `hydra-chat --mock`,
 * `hydra-chat simulate` and every test. One socket = one `Session`.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from '../ws.js';
import type { ClientEvent } from '../protocol.js';
import { injectFault, type Fault } from './faults.js';
import { errorFrame } from './frames.js';
import { newSessionId } from './ids.js';
import { isProfile, PROFILES, type ModelRules, type Profile } from './profile.js';
import type { ToolRule } from './rules.js';
import { Session, type SessionSettings } from './session.js';
import { decideUpgrade, HYDRA_PATH, rejectUpgrade } from './upgrade.js';
import type { VadOptions } from './vad.js';

export type { Fault } from './faults.js';

/**
 * The largest client frame accepted; a larger one is closed with 1009 (message too big) before it is
 * buffered whole. 1 MiB is the default frame limit of the Python `websockets` server, the one our own
 * client assumes for Hydra (src/configure-size.ts); a 20–40 ms audio chunk is about 1 KB (§3.1).
 */
export const MAX_CLIENT_FRAME_BYTES = 1024 * 1024;
export type { ToolRule } from './rules.js';

/** How the simulator behaves; every field has a default. */
export type SimulatorOptions = {
  host?: string;
  port?: number;
  /** Default aug-2026: the service as it is today (what `simulate` and `--mock` run). */
  profile?: Profile;
  apiKey?: string;
  capacity?: number;
  idleTimeoutMs?: number;
  realtimeFactor?: number;
  responseDelayMs?: number;
  toolTimeoutMs?: number;
  transcripts?: boolean;
  /** Deterministic tool calls per user turn; setting them (even `[]`) turns `autoToolCalls` off by default. */
  rules?: ToolRule[];
  /**
   * When tools are declared, call one on every user turn (round-robin, arguments from its JSON Schema),
   * then narrate after the output. Default: on unless `rules` are given.
   */
  autoToolCalls?: boolean;
  vad?: Partial<VadOptions>;
  faults?: {
    rejectStatus?: { status: number; retryAfterS?: number; times?: number };
    serverFullTimes?: number;
    dropAfterDeltas?: number;
  };
};

/** A running simulator. */
export type Simulator = {
  url: string;
  port: number;
  on(event: 'client-frame', cb: (sessionId: string, event: ClientEvent) => void): void;
  on(event: 'server-frame', cb: (sessionId: string, frame: Record<string, unknown>) => void): void;
  on(event: 'session-closed', cb: (sessionId: string, code: number) => void): void;
  inject(fault: Fault, sessionId?: string): void;
  sessions(): string[];
  close(): Promise<void>;
};

/** Start a simulator; resolves once it listens. */
export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? '127.0.0.1';
  const profile = options.profile ?? 'aug-2026';
  if (!isProfile(profile)) throw new Error(`unknown simulator profile '${String(profile)}' (expected ${PROFILES.join(', ')})`);
  const capacity = options.capacity ?? Number.POSITIVE_INFINITY;
  const events = new EventEmitter();
  const live = new Map<string, Session>();
  const faults = {
    rejectsLeft: options.faults?.rejectStatus?.times ?? Number.POSITIVE_INFINITY,
    serverFullLeft: options.faults?.serverFullTimes ?? 0,
    dropAfterDeltas: options.faults?.dropAfterDeltas,
  };
  const settings = (model: ModelRules): SessionSettings => ({
    model,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    realtimeFactor: options.realtimeFactor ?? 10,
    responseDelayMs: options.responseDelayMs ?? 300,
    toolTimeoutMs: options.toolTimeoutMs ?? 10_000,
    transcripts: options.transcripts ?? false,
    rules: options.rules ?? [],
    autoToolCalls: options.autoToolCalls ?? options.rules === undefined,
    vad: options.vad ?? {},
  });
  const hooks = {
    clientFrame: (id: string, event: ClientEvent) => events.emit('client-frame', id, event),
    serverFrame: (id: string, frame: Record<string, unknown>) => events.emit('server-frame', id, frame),
    closed: (id: string, code: number) => {
      live.delete(id);
      events.emit('session-closed', id, code);
    },
    dropAfterDelta: (count: number) => {
      if (faults.dropAfterDeltas === undefined || count < faults.dropAfterDeltas) return false;
      faults.dropAfterDeltas = undefined; // once per simulator
      return true;
    },
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
  const http: Server = createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain' }).end(`WebSocket endpoint: ${HYDRA_PATH}\n`);
  });
  http.on('upgrade', (request, socket, head) => {
    const onSocketError = (): void => void socket.destroy(); // a client that resets mid-handshake must not crash us
    socket.on('error', onSocketError);
    try {
      upgrade(request, socket, head, onSocketError);
    } catch {
      rejectUpgrade(socket, 500, 'internal error'); // one odd handshake must never end the process (every session)
    }
  });

  function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, onSocketError: () => void): void {
    const reject = options.faults?.rejectStatus;
    if (reject && faults.rejectsLeft > 0) {
      faults.rejectsLeft--;
      const headers: Record<string, string> = reject.retryAfterS !== undefined ? { 'Retry-After': String(reject.retryAfterS) } : {};
      rejectUpgrade(socket, reject.status, 'injected rejection', headers);
      return;
    }
    const decision = decideUpgrade(request, profile, options.apiKey);
    if (!decision.accept) {
      rejectUpgrade(socket, decision.status, decision.message, decision.headers);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      socket.off('error', onSocketError);
      accept(ws, decision.model);
    });
  }

  function accept(ws: WebSocket, model: ModelRules): void {
    const id = newSessionId();
    if (faults.serverFullLeft > 0 || live.size >= capacity) {
      if (faults.serverFullLeft > 0) faults.serverFullLeft--;
      // §1.6, §10.26: server_full before session.created, then close 1013
      const frame = errorFrame('server_full', 'server at capacity; retry later');
      ws.send(JSON.stringify(frame));
      events.emit('server-frame', id, frame);
      ws.on('close', (code) => events.emit('session-closed', id, code));
      ws.on('error', () => undefined);
      ws.close(1013, 'server full');
      return;
    }
    const session = new Session(id, ws, settings(model), hooks);
    live.set(id, session);
    session.open();
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `ws://${urlHost}:${port}${HYDRA_PATH}`,
    port,
    on(event: string, cb: (...args: never[]) => void): void {
      events.on(event, cb as (...args: unknown[]) => void);
    },
    inject(fault, sessionId) {
      const targets = sessionId === undefined ? [...live.values()] : [live.get(sessionId)].filter((session) => session !== undefined);
      for (const session of targets) injectFault(session, fault);
    },
    sessions: () => [...live.keys()],
    close: () => closeAll(http, wss, live),
  };
}

/** Close every session (1001 going away), then the server; stragglers are terminated. */
async function closeAll(http: Server, wss: WebSocketServer, live: Map<string, Session>): Promise<void> {
  for (const session of live.values()) session.close(1001, 'simulator shutting down');
  const force = setTimeout(() => {
    for (const client of wss.clients) client.terminate();
  }, 500);
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
  clearTimeout(force);
}
