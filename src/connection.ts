/**
 * One WebSocket to Hydra. `connect()` hands out only a ready connection: the upgrade succeeded and
 * `session.created` arrived (warnings before it are kept). Upgrade failures become HydraErrors
 * with stable codes (hydra-protocol §1.2, §1.6).
 */
import { performance } from 'node:perf_hooks';
import { WebSocket } from './ws.js';
import { HydraError, serverFullError } from './errors.js';
import { DEFAULT_URL } from './models.js';
import { decodeServerFrame, encode, encodeAppend, stampEventId, type ClientEvent, type Decoded, type ServerEvent } from './protocol.js';
import { redact } from './redact.js';

/** A decoded inbound frame with its arrival time (monotonic ms) and size. */
export type Inbound = { decoded: Decoded<ServerEvent>; at: number; bytes: number };

/** `frameTooLarge`: we closed it ourselves because a frame exceeded MAX_FRAME_BYTES. */
export type CloseInfo = {
  code: number;
  reason: string;
  serverFull: boolean;
  frameTooLarge?: boolean;
  /** ws closed the socket itself over a frame that breaks RFC 6455 (invalid UTF-8 text, a bad opcode …): why. */
  brokenFrame?: string;
};

export type Connection = {
  readonly sessionId: string;
  send(event: ClientEvent): void;
  /** `send(appendAudio(pcm))`, the bulk of traffic, encoded straight to bytes (protocol.ts encodeAppend). */
  sendAudio(pcm: Buffer): void;
  /** Frames are delivered in order, starting with those that arrived during the handshake. */
  onFrame(listener: (frame: Inbound) => void): void;
  onClose(listener: (info: CloseInfo) => void): void;
  close(code?: number): Promise<void>;
  isOpen(): boolean;
};

export type ConnectOptions = {
  url: string;
  model: string;
  apiKey: string;
  signal?: AbortSignal;
  handshakeTimeoutMs?: number;
};

/** Largest frame accepted; a bigger one closes the socket (1009) instead of exhausting memory. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Frames kept from before session.created (a warning is all §1.4 expects there); more are dropped. */
export const MAX_PENDING_FRAMES = 64;
const MAX_PENDING_BYTES = 1024 * 1024;

/** The endpoint URL with model and api_key added (§1.1). */
export function sessionUrl(base: string, model: string, apiKey: string): string {
  const url = new URL(base);
  url.searchParams.set('model', model);
  url.searchParams.set('api_key', apiKey);
  return url.toString();
}

export function connect(options: ConnectOptions): Promise<Connection> {
  const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(sessionUrl(options.url, options.model, options.apiKey), {
        maxPayload: MAX_FRAME_BYTES,
        handshakeTimeout: timeoutMs,
      });
    } catch (error) {
      reject(new HydraError('usage', `invalid server URL: ${redact(options.url)}`, { cause: error }));
      return;
    }
    const pending: Inbound[] = [];
    let pendingBytes = 0;
    let malformedCreated: string | null = null;
    let frameListener: ((frame: Inbound) => void) | null = null;
    let closeListener: ((info: CloseInfo) => void) | null = null;
    let closeInfo: CloseInfo | null = null;
    let sessionId: string | null = null;
    let serverFull = false;
    let settled = false;
    let sent = 0;

    const fail = (error: HydraError): void => {
      if (settled) return;
      settled = true;
      cleanupHandshake();
      socket.removeAllListeners();
      socket.on('error', () => {});
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
      reject(error);
    };
    const timer = setTimeout(() => {
      const why = malformedCreated === null ? '' : ` (its session.created was malformed: ${malformedCreated})`;
      fail(new HydraError('connect-failed', `no usable session.created within ${timeoutMs / 1000} s${why}`));
    }, timeoutMs);
    const onAbort = (): void => fail(new HydraError('interrupted', 'cancelled while connecting'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanupHandshake = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }

    socket.on('unexpected-response', (_request, response) => {
      const retryAfter = response.headers['retry-after'];
      fail(upgradeError(response.statusCode ?? 0, typeof retryAfter === 'string' ? retryAfter : undefined));
      response.resume();
    });
    let frameTooLarge = false;
    let brokenFrame: string | null = null;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') frameTooLarge = true;
      else if (error.code?.startsWith('WS_ERR_')) brokenFrame = error.message.replace(/^Invalid WebSocket frame: /, '');
      if (!settled) fail(networkError(error, options.url));
    });
    socket.on('message', (data, isBinary) => {
      const at = performance.now();
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength;
      const text = isBinary ? '' : data.toString();
      const decoded: Decoded<ServerEvent> = isBinary
        ? { kind: 'invalid', problem: 'binary frame (Hydra sends only JSON text frames)' }
        : decodeServerFrame(text);
      if (decoded.kind === 'event' && decoded.event.type === 'error' && decoded.event.error.code === 'server_full') serverFull = true;
      const frame: Inbound = { decoded, at, bytes };
      const created = decoded.kind === 'event' && decoded.event.type === 'session.created' ? decoded.event : null;
      if (frameListener) frameListener(frame);
      else if (settled || created !== null || (pending.length < MAX_PENDING_FRAMES && pendingBytes + bytes <= MAX_PENDING_BYTES)) {
        // Before session.created only a warning is expected (§1.4): a flood is not kept (memory stays bounded).
        pending.push(frame);
        pendingBytes += bytes;
      }
      if (!settled && decoded.kind === 'invalid' && decoded.type === 'session.created') malformedCreated = decoded.problem;
      if (!settled && created !== null) {
        settled = true;
        sessionId = created.session_id;
        cleanupHandshake();
        resolve(connection);
      }
    });
    socket.on('close', (code, reasonBuffer) => {
      closeInfo = { code, reason: reasonBuffer.toString(), serverFull, ...(frameTooLarge ? { frameTooLarge } : {}), ...(brokenFrame ? { brokenFrame } : {}) };
      if (!settled) {
        if (serverFull || code === 1013) {
          fail(serverFullError());
        } else {
          fail(new HydraError('connect-failed', `the server closed the connection during the handshake (code ${code})`));
        }
        return;
      }
      closeListener?.(closeInfo);
    });

    const connection: Connection = {
      get sessionId() {
        return sessionId ?? '';
      },
      send(event) {
        // Event ids are stamped here, as the frame leaves, so the reducer's effects stay deterministic.
        if (socket.readyState === WebSocket.OPEN) socket.send(encode(stampEventId(event, (sent += 1))));
      },
      sendAudio(pcm) {
        if (socket.readyState !== WebSocket.OPEN) return;
        sent += 1; // audio frames carry no event id, but count as frames sent (stampEventId)
        socket.send(encodeAppend(pcm), { binary: false });
      },
      onFrame(listener) {
        frameListener = listener;
        for (const frame of pending.splice(0)) listener(frame);
      },
      onClose(listener) {
        closeListener = listener;
        if (closeInfo) listener(closeInfo);
      },
      isOpen() {
        return socket.readyState === WebSocket.OPEN;
      },
      close(code = 1000) {
        return new Promise<void>((done) => {
          if (socket.readyState === WebSocket.CLOSED) return done();
          const force = setTimeout(() => {
            socket.terminate();
            done();
          }, 1000);
          socket.once('close', () => {
            clearTimeout(force);
            done();
          });
          socket.close(code);
        });
      },
    };
  });
}

/** HTTP status at the upgrade → what the user can do about it (§1.2). */
export function upgradeError(status: number, retryAfter?: string): HydraError {
  if (status === 401) {
    return new HydraError('auth-rejected', 'API key rejected (HTTP 401)', {
      hint: 'check SMALLEST_API_KEY (or --api-key); or try the offline simulator with --mock',
    });
  }
  if (status === 403) {
    return new HydraError('forbidden', 'access denied (HTTP 403): the key lacks permission for Hydra or the plan limit is reached', {
      hint: 'check the key belongs to a workspace with Hydra access',
    });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return new HydraError('rate-limited', `rate limited (HTTP 429)${retryAfter ? `, retry after ${retryAfter} s` : ''}`, {
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status >= 500) return new HydraError('server-error', `server error at connect (HTTP ${status})`);
  if (status === 404) {
    return new HydraError('connect-failed', 'no Hydra endpoint at that URL (HTTP 404 at the WebSocket upgrade)', {
      hint: `check --url: the path is /waves/v1/s2s (e.g. ${DEFAULT_URL})`,
    });
  }
  return new HydraError('connect-failed', `unexpected HTTP ${status} at the WebSocket upgrade`);
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function networkError(error: NodeJS.ErrnoException, url: string): HydraError {
  const where = redact(url);
  switch (error.code) {
    case 'ECONNREFUSED':
      return new HydraError('connect-failed', `connection refused by ${where}`, { hint: 'is the server running? (try --mock)', cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new HydraError('connect-failed', `cannot resolve the host of ${where} (DNS)`, { hint: 'check the URL and your network', cause: error });
    case 'ETIMEDOUT':
      return new HydraError('connect-failed', `connection to ${where} timed out`, { cause: error });
    default:
      if (/certificate|SSL|TLS/i.test(error.message) || (error.code ?? '').startsWith('ERR_TLS') || (error.code ?? '').includes('CERT')) {
        // OpenSSL's "write EPROTO …:SSL routines:fn:reason:file:line:" → just the reason.
        const detail = redact(/SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1] ?? error.message.trim().split('\n')[0]!);
        return new HydraError('connect-failed', `TLS failure talking to ${where}: ${detail}`, {
          hint: 'is it a wss:// (TLS) endpoint? use ws:// for a plain server such as the local simulator',
          cause: error,
        });
      }
      return new HydraError('connect-failed', `cannot connect to ${where}: ${redact(error.message)}`, { cause: error });
  }
}
