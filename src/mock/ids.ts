/** Server-minted identifiers in the formats the protocol doc shows (hydra-protocol §1.3). */
import { randomBytes, randomUUID } from 'node:crypto';

/** A server event id: `sv_` + 16 lowercase hex. */
export function serverEventId(): string {
  return `sv_${randomBytes(8).toString('hex')}`;
}

/** A session id: a UUID, stable for the socket's life. */
export function newSessionId(): string {
  return randomUUID();
}

/** An item, response or call id (`item_…`, `resp_…`, `call_…`). */
export function newId(prefix: 'item' | 'resp' | 'call'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
