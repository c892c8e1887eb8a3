/**
 * The two handler kinds that reach outside the process. `command` spawns argv without a shell (so
 * arguments can never be interpreted as shell syntax), writes the arguments as JSON to stdin and
 * answers with stdout; `http` sends them as a JSON body (or query parameters for GET/HEAD) and
 * answers with the response body. Both stop at once when their signal aborts; failures are Errors
 * whose messages the model sees.
 */
import { spawn } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import type { ToolDefinition } from './define.js';
import { utf8Head, utf8Tail } from './text.js';

/** How much of stderr (its end) or of an error body (its start) an error message carries. */
const DETAIL_BYTES = 500;

/** Runs argv with `input` on stdin; relative programs (`./x.sh`) are resolved against `cwd`. */
export function runCommand(argv: string[], input: string, cwd: string, signal: AbortSignal): Promise<string> {
  const [program = '', ...rest] = argv;
  const executable = !isAbsolute(program) && /[\\/]/.test(program) ? resolve(cwd, program) : program;
  return new Promise((done, fail) => {
    // The tool gets the user's environment minus the Hydra API key: a tool has no use for it.
    const { SMALLEST_API_KEY: _key, ...env } = process.env;
    const child = spawn(executable, rest, { cwd, env, shell: false, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = Buffer.alloc(0);
    const kill = () => child.kill('SIGKILL');
    signal.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]).subarray(-DETAIL_BYTES);
    });
    child.stdin.on('error', () => undefined); // a command that never reads its input is fine
    child.stdin.end(input);
    child.on('error', (error) => {
      signal.removeEventListener('abort', kill);
      fail(new Error(`cannot run ${program}: ${error.message}`));
    });
    child.on('close', (code, killedBy) => {
      signal.removeEventListener('abort', kill);
      if (code === 0) return done(Buffer.concat(stdout).toString('utf8'));
      const how = code === null ? `was killed by ${killedBy}` : `exited with code ${code}`;
      const tail = utf8Tail(stderr).trim();
      fail(new Error(`${program} ${how}${tail === '' ? '' : `: ${tail}`}`));
    });
  });
}

/** Calls the endpoint with the arguments; a non-2xx status is an error carrying the status. */
export async function callHttp(http: NonNullable<ToolDefinition['http']>, args: unknown, signal: AbortSignal): Promise<string> {
  const method = (http.method ?? 'POST').toUpperCase();
  const withBody = method !== 'GET' && method !== 'HEAD';
  const url = new URL(http.url);
  if (!withBody && typeof args === 'object' && args !== null) {
    for (const [key, value] of Object.entries(args)) url.searchParams.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { ...(withBody ? { 'content-type': 'application/json' } : {}), ...http.headers },
      ...(withBody ? { body: JSON.stringify(args) } : {}),
      signal,
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    throw new Error(`${method} ${url.origin}${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}${cause}`);
  }
  const text = await response.text();
  if (!response.ok) {
    const body = utf8Head(text, DETAIL_BYTES).trim();
    throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${body === '' ? '' : `: ${body}`}`);
  }
  return text;
}
