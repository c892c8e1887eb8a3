/** Each kind of anomaly is shown once; a hostile server cannot flood the screen with new kinds. */
import type { Note } from './session.js';

/** Distinct kinds of anomaly shown per run. */
export const MAX_ANOMALY_KINDS = 64;

/** Returns the note to show (possibly a "muted" line in its place), or null to show nothing. */
export function anomalyFilter(): (note: Note) => Note | null {
  const shown = new Set<string>();
  let muted = false;
  return (note) => {
    if (note.kind !== 'anomaly') return note;
    if (shown.has(note.key)) return null;
    if (shown.size < MAX_ANOMALY_KINDS) {
      shown.add(note.key);
      return note;
    }
    // A server inventing endless new kinds (e.g. random unknown types) gets one last line, then silence.
    if (muted) return null;
    muted = true;
    return { kind: 'anomaly', key: 'anomalies-muted', message: `more than ${MAX_ANOMALY_KINDS} kinds of malformed frames; further ones are not shown` };
  };
}

