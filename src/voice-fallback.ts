/**
 * What the server did with the voice we asked for (hydra-protocol §2.3, §10.3): rejected it with an
 * `invalid_request_error` on `session.configure.session.voice` (August), or silently used another
 * (May). Either way the conversation goes on, and the person is told in one line. Pure.
 */
import { MODELS } from './models.js';
import type { SessionConfig } from './protocol.js';
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
  // "any more" only for a voice that once existed (the original release's roster).
  const former = MODELS.hydra?.voices.includes(requested) === true ? ' any more' : '';
  if (rejected) return `voice ${requested} is not served on ${model}${former}; using ${using} — see \`hydra-chat voices\``;
  if (configured !== undefined && configured !== requested) {
    return `the server does not know voice ${requested} and used ${configured} instead — see \`hydra-chat voices\``;
  }
  return null;
}

export type VoiceFallback = {
  /** The server rejected the voice. */
  reject(): void;
  /** The session to configure: without the voice once the server rejected it (the server picks its default). */
  config(): SessionConfig;
  /** The line to show now that a session is configured with `voice`, at most once per run. */
  configured(voice: string | undefined): string | null;
};

/** Across reconnects: whether the voice was rejected (then sessions configure without it), and the line, said once. */
export function voiceFallback(session: SessionConfig, model: string): VoiceFallback {
  let rejected = false;
  let told = false;
  const { voice: _voice, ...withoutVoice } = session;
  return {
    reject: () => void (rejected = true),
    config: () => (rejected ? withoutVoice : session),
    configured(voice) {
      const line = told ? null : voiceLine(session.voice, rejected, voice, model);
      if (line !== null) told = true;
      return line;
    },
  };
}
