/**
 * A handler's console output, kept off the CLI's own stdout and stderr while tools can run. A TS
 * handler that debugs with console.log (or console.error, console.table …), or writes to
 * process.stdout itself, would otherwise break --json's one-object-a-line stdout, mix into
 * `tools call | jq`, and print the API key unredacted if it logged it. While captured, every line
 * written through the global console, and every process.stdout / process.stderr write made inside a
 * handler (its awaits and timers too), goes to `line` instead.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { inToolHandler } from './handler.js';

type Write = NodeJS.WriteStream['write'];

/** Routes the global console and handlers' direct writes to `line`, one call per line, until the returned function restores them. */
export function captureConsole(line: (text: string) => void): () => void {
  let partial = '';
  // Set while a line is handed on: what `line` itself writes (the UI, to stdout) goes where it always went.
  let delivering = false;
  const deliver = (text: string): void => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    delivering = true;
    try {
      for (const part of parts) line(part);
    } finally {
      delivering = false;
    }
  };
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      deliver(String(chunk));
      done();
    },
  });
  const original = globalThis.console;
  const captured = new Console({ stdout: sink, stderr: sink, colorMode: false });
  globalThis.console = captured;
  const releases = [process.stdout, process.stderr].map((stream) => divert(stream, () => !delivering && inToolHandler(), deliver));
  return () => {
    for (const release of releases) release();
    if (partial !== '') line(partial);
    partial = '';
    // Restored only while it is still ours: whoever replaced it since keeps theirs.
    if (globalThis.console === captured) globalThis.console = original;
  };
}

/** Sends `stream`'s writes to `deliver` while `when()` holds; the returned function undoes it (if still in place). */
function divert(stream: NodeJS.WriteStream, when: () => boolean, deliver: (text: string) => void): () => void {
  const previous = stream.write;
  const diverted = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (!when()) return (previous as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    deliver(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) queueMicrotask(callback);
    return true;
  } as Write;
  stream.write = diverted;
  return () => {
    // A spinner (ora) hooked before us puts its original back when it stops, dropping us with it: leave that be.
    if (stream.write === diverted) stream.write = previous;
  };
}
