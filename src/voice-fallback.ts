/**
 * What the server did with the voice we asked for (hydra-protocol §2.3, §10.3): rejected it with an
 * `invalid_request_error` on `session.configure.session.voice` (August), or silently used another
 * (May). Either way the conversation goes on, and the person is told in one line. Pure.
 */
import type { Note } from './session.js';

export const VOICE_PARAM = 'session.configure.session.voice';

/** The error frame that rejects the configured voice. */
export function isVoiceRejection(note: Note): boolean {
  return note.kind === 'server-error' && note.param === VOICE_PARAM;
}

/** The one line to show once configured, or null when the voice is the one asked for. */
export function voiceLine(requested: string | undefined, rejected: boolean, configured: string | undefined, model: string): string | null {
  if (requested === undefined) return null;
  const using = configured ?? "the server's default voice";
  if (rejected) return `voice ${requested} is not served on ${model} any more; using ${using} — see \`hydra-chat voices\``;
  if (configured !== undefined && configured !== requested) {
    return `the server does not know voice ${requested} and used ${configured} instead — see \`hydra-chat voices\``;
  }
  return null;
}
