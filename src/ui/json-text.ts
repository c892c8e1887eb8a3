/**
 * JSON text for --json output and the files a run writes (transcript.jsonl, report.json). Every string,
 * object keys included, is redacted before it is encoded — so the key never shows and redaction cannot
 * cut through the JSON (a server's `?api_key=x\"` once left an unbalanced quote) — and the characters a
 * terminal or a line reader acts on inside strings (DEL and C1 controls, U+2028/U+2029, bidi controls)
 * are \u-escaped, so a record stays one valid line. Pure.
 */
import { redact } from '../redact.js';

/** Values nested deeper than this (a hostile frame) are replaced, so encoding cannot overflow the stack. */
const MAX_JSON_DEPTH = 64;
/** Only ever inside a JSON string (the structure is ASCII), so escaping them keeps the JSON valid. */
const ESCAPED = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

type Replacer = (key: string, value: unknown) => unknown;

/** `value` as JSON: strings redacted, unsafe characters escaped; too deep a value becomes a placeholder instead of a crash. */
export function jsonText(value: unknown, options: { space?: number; replacer?: Replacer } = {}): string {
  const extra = options.replacer ?? ((_key: string, entry: unknown) => entry);
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (key, entry: unknown) => redactValue(extra(key, entry)), options.space);
  } catch {
    const depths = new WeakMap<object, number>();
    text = JSON.stringify(
      value,
      function (this: unknown, key: string, entry: unknown) {
        const depth = (typeof this === 'object' && this !== null ? (depths.get(this) ?? 0) : 0) + 1;
        const next = redactValue(extra(key, entry));
        if (typeof next !== 'object' || next === null) return next;
        if (depth > MAX_JSON_DEPTH) return '<nested too deeply>';
        depths.set(next, depth);
        return next;
      },
      options.space,
    );
  }
  return (text ?? 'null').replace(ESCAPED, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A string redacted; an object whose keys hold a secret copied with them redacted; anything else as is. */
function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.every((key) => redact(key) === key)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [redact(key), entry]));
}
