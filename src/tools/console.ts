/**
 * A handler's console output, kept off the CLI's own stdout and stderr while tools can run. A TS
 * handler that debugs with console.log (or console.error, console.table …) would otherwise break
 * --json's one-object-a-line stdout, mix into `tools call | jq`, and print the API key unredacted
 * if it logged it. While captured, every line written through the global console goes to `line`.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';

/** Routes the global console to `line`, one call per line, until the returned function restores it. */
export function captureConsole(line: (text: string) => void): () => void {
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      const parts = (partial + String(chunk)).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) line(part);
      done();
    },
  });
  const original = globalThis.console;
  const captured = new Console({ stdout: sink, stderr: sink, colorMode: false });
  globalThis.console = captured;
  return () => {
    if (partial !== '') line(partial);
    partial = '';
    // Restored only while it is still ours: whoever replaced it since keeps theirs.
    if (globalThis.console === captured) globalThis.console = original;
  };
}
