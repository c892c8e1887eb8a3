/**
 * The built-in defaults a session runs with, each defined once: the chat engine, the CLI, the
 * scenario runner, `doctor` and `config show` all read them here (a module with no imports, so the
 * commands that only show a default do not load the chat engine).
 */
export const DEFAULTS = {
  /** Mic frame length (ms): one input_audio_buffer.append per frame. */
  frameMs: 20,
  /** Reconnect attempts after a dropped connection before giving up. */
  maxRetries: 8,
  /** With --input: silence sent after the file so the server's VAD ends the last turn (ms). */
  trailingSilenceMs: 2000,
  /** A turn heard but not answered for this long is an error with --input, a warning live (ms). */
  replyTimeoutMs: 30_000,
  /** session.configure unanswered for this long fails the connection attempt (ms). */
  configuredTimeoutMs: 10_000,
  /** Grace period after the server rejects the voice (ms). */
  voiceGraceMs: 2_000,
} as const;
