/**
 * The two handler kinds that reach outside the process. `command` spawns argv without a shell (so
 * arguments can never be interpreted as shell syntax) in a process group of its own, writes the
 * arguments as JSON to stdin and answers with stdout; `http` sends them as a JSON body (or as query
 * parameters for GET/HEAD, never replacing one the config's URL sets) and answers with the response
 * body. Both read at most `maxBytes` of output: past that the command's group is killed or the
 * request aborted, and the head is answered, marked truncated. Both stop at once when their signal
 * aborts; failures are Errors whose messages the model sees.
 */
import { isAbsolute, resolve } from 'node:path';
import { holdsSecret, withoutSecretsAtCuts } from '../redact.js';
import type { ToolDefinition } from './define.js';
import { killGroup, killPipeHolders, pipesOf, spawnGroup } from './process-group.js';
import { ByteCap, StreamedOutput, utf8Tail } from './text.js';

/** How much of stderr (its end) or of an error body (its start) an error message carries. */
const DETAIL_BYTES = 500;
/** After the command exits, how long output still in flight may take before its pipes are closed. */
const DRAIN_MS = 250;

/** Runs argv with `input` on stdin; relative programs (`./x.sh`) are resolved against `cwd`. */
export function runCommand(argv: string[], input: string, cwd: string, signal: AbortSignal, maxBytes: number): Promise<StreamedOutput> {
  const [program = '', ...rest] = argv;
  const executable = !isAbsolute(program) && /[\\/]/.test(program) ? resolve(cwd, program) : program;
  return new Promise((done, fail) => {
    // The tool gets the user's environment minus the Hydra API key, under whatever name it is held
    // (SMALLEST_API_KEY, a copy, the --api-key value exported elsewhere): a tool has no use for it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name, value]) => name !== 'SMALLEST_API_KEY' && !holdsSecret(value ?? '')));
    const child = spawnGroup(executable, rest, { cwd, env, shell: false });
    const pipes = pipesOf(child);
    const stdout = new ByteCap(maxBytes);
    let stderr = Buffer.alloc(0);
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let drain: NodeJS.Timeout | undefined;
    let settled = false;
    /** Our ends of the pipes closed; whatever still holds theirs (it left the group) is killed. */
    const closePipes = (): void => {
      if (!child.stdout.closed || !child.stderr.closed) killPipeHolders(pipes);
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', stop);
      clearTimeout(drain);
      killGroup(child);
      closePipes();
      finish();
    };
    const stop = (): void => settle(() => fail(new Error('stopped')));
    signal.addEventListener('abort', stop, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      if (!stdout.push(chunk)) settle(() => done(new StreamedOutput(stdout.text(), true)));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]).subarray(-DETAIL_BYTES);
    });
    child.stdin.on('error', () => undefined); // a command that never reads its input is fine
    child.stdin.end(input);
    child.on('error', (error) => settle(() => fail(new Error(`cannot run ${program}: ${error.message}`))));
    // The answer follows the command's exit, not the end of its stdout: whatever it left running in
    // its group (a background job holding the pipe) is stopped, and output already written is drained.
    child.on('exit', (code, killedBy) => {
      exit = { code, signal: killedBy };
      killGroup(child);
      drain = setTimeout(closePipes, DRAIN_MS);
    });
    child.on('close', () => {
      const ended = exit ?? { code: null, signal: null };
      if (ended.code === 0) return settle(() => done(new StreamedOutput(stdout.text(), false)));
      const how = ended.code === null ? `was killed by ${ended.signal}` : `exited with code ${ended.code}`;
      // Only stderr's end is kept: a key it printed may be cut in two there.
      const tail = withoutSecretsAtCuts(utf8Tail(stderr)).trim();
      settle(() => fail(new Error(`${program} ${how}${tail === '' ? '' : `: ${tail}`}`)));
    });
  });
}

/** Calls the endpoint with the arguments; a non-2xx status is an error carrying the status. */
export async function callHttp(
  http: NonNullable<ToolDefinition['http']>,
  args: unknown,
  signal: AbortSignal,
  maxBytes: number,
): Promise<StreamedOutput> {
  const method = (http.method ?? 'POST').toUpperCase();
  const withBody = method !== 'GET' && method !== 'HEAD';
  const url = new URL(http.url);
  if (!withBody && typeof args === 'object' && args !== null) {
    // The config's own query parameters (an API key, fixed units) win: arguments may only add.
    const fixed = new Set(url.searchParams.keys());
    for (const [key, value] of Object.entries(args)) {
      if (!fixed.has(key)) url.searchParams.set(key, typeof value === 'string' ? value : JSON.stringify(value));
    }
  }
  // Aborted on the caller's signal, or by us once the body passes the cap.
  const request = new AbortController();
  const stop = (): void => request.abort();
  signal.addEventListener('abort', stop, { once: true });
  try {
    let response: Response;
    try {
      response = await fetchFollowing(url, method, withBody ? JSON.stringify(args) : undefined, http.headers ?? {}, request.signal);
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
      throw new Error(`${method} ${url.origin}${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}${cause}`);
    }
    const body = await readBounded(response, response.ok ? maxBytes : DETAIL_BYTES, request);
    if (!response.ok) {
      const detail = (body.truncated ? withoutSecretsAtCuts(body.text) : body.text).trim();
      throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${detail === '' ? '' : `: ${detail}`}`);
    }
    return body;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/**
 * fetch, following redirects itself: the config's headers (an API key) go only to the config's own
 * origin. fetch drops just `Authorization` when a redirect leaves the origin; an `X-Api-Key` would
 * follow it anywhere (an open redirect, a model-chosen `?next=` parameter). 303, and 301/302 after a
 * POST, continue as a GET without the body, as fetch does.
 */
async function fetchFollowing(first: URL, method: string, body: string | undefined, configured: Record<string, string>, signal: AbortSignal): Promise<Response> {
  let url = first;
  let current = { method, body };
  for (let hops = 0; ; hops++) {
    const sameOrigin = url.origin === first.origin;
    const headers = { ...(current.body === undefined ? {} : { 'content-type': 'application/json' }), ...(sameOrigin ? configured : {}) };
    const response = await fetch(url, { method: current.method, headers, redirect: 'manual', signal, ...(current.body === undefined ? {} : { body: current.body }) });
    const location = response.headers.get('location');
    if (!REDIRECTS.has(response.status) || location === null) return response;
    await response.body?.cancel().catch(() => undefined);
    if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    url = new URL(location, url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`redirected to a ${url.protocol} URL`);
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && current.method === 'POST')) {
      current = { method: current.method === 'HEAD' ? 'HEAD' : 'GET', body: undefined };
    }
  }
}

/** Reads at most `maxBytes` of the body; past that the request is aborted and the head kept. */
async function readBounded(response: Response, maxBytes: number, request: AbortController): Promise<StreamedOutput> {
  const cap = new ByteCap(maxBytes);
  if (response.body === null) return new StreamedOutput('', false);
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return new StreamedOutput(cap.text(), false);
    if (!cap.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) {
      request.abort();
      await reader.cancel().catch(() => undefined);
      return new StreamedOutput(cap.text(), true);
    }
  }
}
