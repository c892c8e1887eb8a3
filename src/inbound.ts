/** A decoded server frame → what the shell does with it: a server event for the reducer, or a note. Pure. */
import type { Decoded, ServerEvent } from './protocol.js';
import type { Note } from './session.js';
import { clip } from './session-types.js';

export type InboundAction =
  | { kind: 'event'; event: ServerEvent }
  /** `configuredProblem`: the frame was a session.configured the decoder rejected (why, for the timeout's message). */
  | { kind: 'note'; note: Note; configuredProblem?: string };

export function inboundAction(decoded: Decoded<ServerEvent>): InboundAction {
  if (decoded.kind === 'event') return { kind: 'event', event: decoded.event };
  if (decoded.kind === 'unknown') {
    const type = clip(decoded.type);
    return { kind: 'note', note: { kind: 'anomaly', key: `unknown:${type}`, message: `ignored an unknown event type "${type}"` } };
  }
  const type = decoded.type === undefined ? '' : clip(decoded.type);
  const problem = clip(decoded.problem, 200);
  const note: Note = { kind: 'anomaly', key: `invalid:${type}`, message: `ignored a malformed frame${type ? ` (${type})` : ''}: ${problem}` };
  return decoded.type === 'session.configured' ? { kind: 'note', note, configuredProblem: problem } : { kind: 'note', note };
}
