/**
 * The HTTP side of the upgrade: path, auth, model, status faults (hydra-protocol §1.1, §1.2, §10.1, §10.31).
 * A rejected upgrade is a plain HTTP response; the socket never opens.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { defaultModel, modelRules, type ModelRules, type Profile } from './profile.js';

/** The documented endpoint path. */
export const HYDRA_PATH = '/waves/v1/s2s';

/** Accept with the model's rules, or reject with an HTTP status. */
export type UpgradeDecision =
  | { accept: true; model: ModelRules }
  | { accept: false; status: number; message: string; headers?: Record<string, string> };

/** Decide an upgrade request: path, then api_key (query or Bearer header), then model. */
export function decideUpgrade(request: IncomingMessage, profile: Profile, apiKey: string | undefined): UpgradeDecision {
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://simulator.local');
  } catch {
    // A request target such as `//[` is not a URL: a 400 for this client, never a throw (the process serves everyone).
    return { accept: false, status: 400, message: 'malformed request target' };
  }
  if (url.pathname !== HYDRA_PATH) return { accept: false, status: 404, message: `no endpoint at ${url.pathname}; use ${HYDRA_PATH}` };
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const key = url.searchParams.get('api_key') || bearer; // §10.31: query param, or a Bearer header as the SDK sends
  if (!key) return { accept: false, status: 401, message: 'missing api_key' };
  if (apiKey !== undefined && key !== apiKey) return { accept: false, status: 401, message: 'invalid api_key' };
  // §1.1: a missing `model` is the AsyncAPI default (hydra-v1.1; `hydra` under may-2026); unknown tags → 400 (§10.1)
  const model = url.searchParams.get('model') || defaultModel(profile); // an empty value is absent too
  const rules = modelRules(profile, model);
  if (!rules) return { accept: false, status: 400, message: `unknown model '${model}'` };
  return { accept: true, model: rules };
}

/** Answer the upgrade with a plain HTTP error and close the TCP socket. */
export function rejectUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { status, message } });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
