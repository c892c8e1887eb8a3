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

/**
 * Output read from a stream (a command's stdout, an HTTP body) with at most a cap's worth kept:
 * `truncated` says the source had more and was stopped.
 */
export class StreamedOutput {
  readonly text: string;
  readonly truncated: boolean;

  constructor(text: string, truncated: boolean) {
    this.text = text;
    this.truncated = truncated;
  }
}

/** Keeps the first `maxBytes` bytes pushed into it; `push` says false once more arrived than fits. */
export class ByteCap {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly maxBytes: number;
  overflowed = false;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  push(chunk: Buffer): boolean {
    const room = this.maxBytes - this.size;
    if (chunk.length > room) {
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.size += Math.max(0, room);
      this.overflowed = true;
      return false;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  /** What was kept, decoded; a character cut by the cap is dropped whole. */
  text(): string {
    const bytes = Buffer.concat(this.chunks);
    if (!this.overflowed) return bytes.toString('utf8');
    let end = bytes.length;
    while (end > 0 && (bytes[end - 1]! & 0xc0) === 0x80) end--; // continuation bytes of a cut character
    if (end > 0 && bytes[end - 1]! >= 0xc0) end--; // and its lead byte
    return bytes.subarray(0, end).toString('utf8');
  }
}

/**
 * A stopped stream's head, marked, within `maxBytes`: how many bytes it had in total is unknown.
 * `tidy` sees the head as cut (it may only shorten it): what the cut split in two is its business.
 */
export function markTruncated(head: string, maxBytes: number, tidy: (cut: string) => string = (cut) => cut): string {
  const marker = `…[truncated: the output passed ${maxBytes} bytes, so the tool was stopped]`;
  return `${tidy(utf8Head(head, maxBytes - Buffer.byteLength(marker, 'utf8')))}${marker}`;
}
