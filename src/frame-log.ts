/** Frames as they go into --json, transcript.jsonl and --verbose: audio elided, secrets redacted. Pure. */
import type { Decoded } from './protocol.js';

export type LoggedFrame = Record<string, unknown>;

/** A copy of the frame with base64 audio replaced by its decoded size. */
export function elideAudio(frame: Record<string, unknown>): LoggedFrame {
  const out: LoggedFrame = { ...frame };
  for (const key of ['audio', 'delta'] as const) {
    const value = out[key];
    if (typeof value === 'string' && (key === 'audio' || frame.type === 'response.output_audio.delta')) {
      out[key] = `<${Buffer.byteLength(value, 'base64')} bytes>`; // decoded size: base64 padding not counted
    }
  }
  return out;
}

/** What an inbound frame looked like, for logs: the event, the unknown frame, or the problem. */
export function describeInbound(decoded: Decoded<Record<string, unknown>>): LoggedFrame {
  switch (decoded.kind) {
    case 'event':
      return elideAudio(decoded.event);
    case 'unknown':
      return elideAudio(decoded.raw);
    case 'invalid':
      return { type: decoded.type ?? '(invalid)', invalid: decoded.problem };
  }
}

/** The 'frame' event of an inbound frame, described only if someone reads it (most runs log no frames). */
export function lazyInbound(decoded: Decoded<Record<string, unknown>>, at: number): { type: 'frame'; direction: 'in'; readonly frame: LoggedFrame; at: number } {
  return {
    type: 'frame',
    direction: 'in',
    get frame() {
      return describeInbound(decoded);
    },
    at,
  };
}
