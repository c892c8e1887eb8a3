/**
 * What the server did with the voice we asked for (hydra-protocol §2.3, §10.3): rejected it with an
 * `invalid_request_error` on `session.configure.session.voice` (August), or silently used another
 * (May). Either way the conversation goes on, and the person is told in one line. Pure.
 */
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
  if (rejected) return `voice ${requested} is not served on ${model} any more; using ${using} — see \`hydra-chat voices\``;
  if (configured !== undefined && configured !== requested) {
    return `the server does not know voice ${requested} and used ${configured} instead — see \`hydra-chat voices\``;
  }
  return null;
}

/** Across reconnects: whether the voice was rejected (then sessions configure without it), and the line, said once. */
export class VoiceFallback {
  private rejected = false;
  private told = false;
  private readonly session: SessionConfig;
  private readonly model: string;

  constructor(session: SessionConfig, model: string) {
    this.session = session;
    this.model = model;
  }

  reject(): void {
    this.rejected = true;
  }

  /** The session to configure: without the voice once the server rejected it (the server picks its default). */
  config(): SessionConfig {
    const { voice: _voice, ...withoutVoice } = this.session;
    return this.rejected ? withoutVoice : this.session;
  }

  /** The line to show now that a session is configured with `voice`, at most once per run. */
  configured(voice: string | undefined): string | null {
    const line = this.told ? null : voiceLine(this.session.voice, this.rejected, voice, this.model);
    if (line !== null) this.told = true;
    return line;
  }
}
