/**
 * Text from outside — the server, the model, a tool — cleaned before a terminal sees it: no control
 * characters (C0 except \n and \t, DEL, C1), no escape sequences (CSI, OSC such as a title change or
 * an OSC 52 clipboard write, DCS/SOS/PM/APC strings, two-character ESC codes), no bidi controls (a
 * right-to-left override shows text in another order than it was sent), and a length cap per field.
 * A field is one line: its line breaks cannot start a line that looks like one of ours, and it is
 * redacted before it is capped. Pure. The `--json` output keeps the full value instead, JSON-escaped.
 */
import { redact } from '../redact.js';

/** Characters shown of one server- or model-supplied field before "… (N more)". */
export const MAX_FIELD_CHARS = 500;

/**
 * Escape sequences, 7-bit (ESC …) and 8-bit (C1 introducers). A string sequence (OSC, DCS, …) without
 * its terminator runs to the end of the text, so its payload is dropped with it.
 */
const SEQUENCES = new RegExp(
  [
    '(?:\\x1b\\[|\\x9b)[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]?', // CSI … final byte
    '(?:\\x1b[\\]PX^_]|[\\x90\\x98\\x9d\\x9e\\x9f])[^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?', // OSC, DCS, SOS, PM, APC … BEL or ST
    '\\x1b[\\x20-\\x2f]*[\\x30-\\x7e]?', // any other ESC code (ESC c resets the screen)
  ].join('|'),
  'g',
);
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
/** Bidi embeddings, overrides, isolates and marks (U+202A–202E, U+2066–2069, LRM, RLM, ALM). */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
/** Unicode's line and paragraph separators: line breaks like \n. */
const SEPARATORS = /[\u2028\u2029]/g;
const LINE_BREAKS = /[\n\t]/g;

/** The text without escape sequences, control characters and bidi controls (\n and \t are kept). */
export function stripControls(text: string): string {
  return text.replace(SEQUENCES, '').replace(CONTROLS, '').replace(BIDI, '').replace(SEPARATORS, '\n');
}

/** Cut to `max` characters (never inside a surrogate pair), saying how many more there were. */
export function capText(text: string, max = MAX_FIELD_CHARS): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}… (${text.length - end} more)`;
}

/** The text cleaned and on one line (line breaks and tabs made spaces), whatever its length. */
export function oneLine(text: string): string {
  return stripControls(text).replace(LINE_BREAKS, ' ');
}

/**
 * One printable field on one line: cleaned, line breaks and tabs made spaces, redacted, then capped —
 * in that order, so the cap never cuts a key into a prefix that redaction would no longer recognise.
 */
export function cleanField(text: string, max = MAX_FIELD_CHARS): string {
  return capText(redact(oneLine(text)), max);
}
