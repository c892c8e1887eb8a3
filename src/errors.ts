/** Errors as data: a stable code, the exit code the CLI uses, a message a person can act on. */

export type ErrorCode =
  | 'usage'
  | 'no-api-key'
  | 'auth-rejected'
  | 'forbidden'
  | 'rate-limited'
  | 'server-full'
  | 'server-error'
  | 'connect-failed'
  | 'protocol'
  | 'config-invalid'
  | 'audio-device'
  | 'audio-unavailable'
  | 'input-file'
  | 'output-file'
  | 'tool'
  | 'scenario-failed'
  | 'no-speech'
  | 'no-reply'
  | 'interrupted'
  | 'internal';

/** One exit code per thing a user can hit (documented in README). */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  usage: 2,
  'no-api-key': 3,
  'auth-rejected': 4,
  forbidden: 5,
  'rate-limited': 6,
  'server-full': 7,
  'server-error': 8,
  'connect-failed': 9,
  protocol: 10,
  'config-invalid': 11,
  'audio-device': 12,
  'audio-unavailable': 13,
  'input-file': 14,
  'output-file': 15,
  tool: 16,
  'scenario-failed': 17,
  'no-speech': 18,
  'no-reply': 19,
  interrupted: 130,
  internal: 70,
};

export class HydraError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** What to do about it, shown on a second line. */
  readonly hint: string | undefined;
  /** For rate limits: how long the server asked us to wait. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'HydraError';
    this.code = code;
    this.exitCode = EXIT_CODES[code];
    this.hint = options.hint;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Any thrown value as a HydraError, keeping HydraErrors as they are. */
export function toHydraError(error: unknown, fallback: ErrorCode = 'internal'): HydraError {
  if (error instanceof HydraError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new HydraError(fallback, message, { cause: error });
}

/** server_full (+ close 1013), wherever it is seen: during the handshake or after it (§1.6). */
export function serverFullError(): HydraError {
  return new HydraError('server-full', 'Hydra is at capacity (server_full)', { hint: 'Hydra stayed at capacity through every attempt; try again in a few minutes, or allow more with --max-retries' });
}
