/**
 * Byte-bounded text that stays valid UTF-8: a cut never splits a character. Tool outputs are capped
 * this way (with a marker saying how much was dropped) so a chatty tool cannot flood the session.
 */

/** At most `maxBytes` bytes from the start of `text`, cut before a character boundary. */
export function utf8Head(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** The bytes decoded from their first whole character on (a tail may start mid-character). */
export function utf8Tail(bytes: Buffer): string {
  let start = 0;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}

/** `text` if it fits in `maxBytes`, else its head plus `…[truncated N bytes]`, all within `maxBytes`. */
export function capOutput(text: string, maxBytes: number): string {
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= maxBytes) return text;
  // Reserve room for the longest marker this text could need; the real one is never longer.
  const head = utf8Head(text, maxBytes - Buffer.byteLength(`…[truncated ${total} bytes]`, 'utf8'));
  return `${head}…[truncated ${total - Buffer.byteLength(head, 'utf8')} bytes]`;
}
