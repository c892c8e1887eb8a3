/**
 * Loads and validates a tools config: `.json` is parsed, `.ts/.mts/.js/.mjs` is imported through
 * jiti (with 'hydra-chat' aliased to this package, uncached so a reload sees edits). The default
 * export is an agent (`defineAgent`) or a bare array of tools. Every problem is one HydraError
 * ('config-invalid') naming the file, the tool and the field, so the user can fix it without a trace.
 */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import { HydraError } from '../errors.js';
import { CONFIG_FILE_MAX_BYTES, readTextFile, TextFileError } from '../text-file.js';
export { DEFAULT_TOOLS_FILES, findDefaultToolsFile } from './files.js';
import type { ToolDefinition } from './define.js';
import { captureConsole } from './console.js';
import { compileArguments, isZodSchema, toJsonSchema } from './schema.js';

export type ToolKind = 'handler' | 'result' | 'command' | 'http';
export type LoadedTool = {
  name: string;
  description?: string;
  /** JSON Schema, as declared to the server. */
  parameters: Record<string, unknown>;
  timeoutMs: number;
  kind: ToolKind;
  definition: ToolDefinition;
};
export type LoadedAgent = { path: string; instructions?: string; voice?: string; model?: string; greet?: boolean; tools: LoadedTool[] };

export const DEFAULT_TIMEOUT_MS = 5000;
/** The longest a tool may run (10 min): beyond it a timer cannot be trusted and no caller waits. */
export const MAX_TIMEOUT_MS = 600_000;
/** How long a code config may take to load (its top-level code, awaits included). */
export const CONFIG_LOAD_TIMEOUT_MS = 10_000;
const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const KINDS: ToolKind[] = ['handler', 'result', 'command', 'http'];
const TOOL_FIELDS = new Set(['name', 'description', 'parameters', 'timeoutMs', ...KINDS]);
const AGENT_FIELDS = new Set(['$schema', 'instructions', 'voice', 'model', 'greet', 'tools']);
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `log`: where a code config's console output while it loads goes (else the console, as usual). */
export type LoadOptions = { signal?: AbortSignal; timeoutMs?: number; log?: (text: string) => void };

/** Loads and validates `path`; a code config that does not finish loading in time, or Ctrl-C, stops it. */
export async function loadAgentConfig(path: string, options: LoadOptions = {}): Promise<LoadedAgent> {
  return validateAgentConfig(await importConfig(path, resolve(path), options), path);
}

const invalid = (message: string) => new HydraError('config-invalid', message);
const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();

async function importConfig(file: string, absolute: string, options: LoadOptions): Promise<unknown> {
  const extension = extname(absolute).toLowerCase();
  if (extension !== '.json' && !MODULE_EXTENSIONS.includes(extension)) {
    throw invalid(`${file}: unsupported file type "${extension}" (use .ts, .mts, .js, .mjs or .json)`);
  }
  let text: string;
  try {
    text = await readTextFile(absolute, { maxBytes: CONFIG_FILE_MAX_BYTES, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (!(error instanceof TextFileError)) throw error;
    if (error.code === 'ABORT_ERR') throw new HydraError('interrupted', `stopped while waiting for ${file}`);
    throw invalid(`${file}: ${error.why === 'no such file' ? error.why : `cannot read (${error.why})`}`);
  }
  if (extension === '.json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw invalid(`${file}: not valid JSON: ${firstLine(error)}`);
    }
  }
  const jiti = createJiti(import.meta.url, { moduleCache: false, alias: { 'hydra-chat': packageEntry() } });
  const releaseConsole = options.log ? captureConsole(options.log) : null;
  try {
    return await bounded(jiti.import(absolute, { default: true }), file, options);
  } catch (error) {
    if (error instanceof HydraError) throw error;
    throw invalid(`${file}: failed to load: ${firstLine(error)}`);
  } finally {
    releaseConsole?.();
  }
}

/**
 * The module's own promise, unless it takes longer than the load timeout (a top-level await that
 * never settles) or the signal aborts first. The timer also keeps the process alive meanwhile, so a
 * module waiting on nothing cannot end the CLI with Node's "unsettled top-level await" status.
 */
function bounded<T>(loading: Promise<T>, file: string, options: LoadOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? CONFIG_LOAD_TIMEOUT_MS;
  const { signal } = options;
  return new Promise<T>((done, fail) => {
    const finish = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      finish();
      fail(new HydraError('interrupted', `stopped while loading ${file}`));
    };
    const timer = setTimeout(() => {
      finish();
      fail(invalid(`${file}: did not finish loading within ${timeoutMs / 1000} s (a top-level await that never settles?)`));
    }, timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    loading.then(
      (value) => (finish(), done(value)),
      (error: unknown) => (finish(), fail(error)),
    );
  });
}

/** This package's entry: the TypeScript source when running from source, else the build. */
function packageEntry(): string {
  const source = fileURLToPath(new URL('../index.ts', import.meta.url));
  return existsSync(source) ? source : fileURLToPath(new URL('../index.js', import.meta.url));
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates an agent (or tools array) already in memory, as if loaded from `file`: messages name it
 * and command tools run in its folder.
 */
export function validateAgentConfig(raw: unknown, file: string): LoadedAgent {
  const config = Array.isArray(raw) ? { tools: raw } : raw;
  if (!isRecord(config)) throw invalid(`${file}: the default export must be an agent ({ tools: [...] }) or an array of tools`);
  for (const key of Object.keys(config)) {
    if (!AGENT_FIELDS.has(key)) throw invalid(`${file}: ${key}: unknown field (expected ${[...AGENT_FIELDS].slice(1).join(', ')})`);
  }
  const agent: LoadedAgent = { path: resolve(file), tools: [] };
  for (const key of ['instructions', 'voice', 'model'] as const) {
    const value = config[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw invalid(`${file}: ${key}: must be a string`);
    agent[key] = value;
  }
  if (config.greet !== undefined) {
    if (typeof config.greet !== 'boolean') throw invalid(`${file}: greet: must be true or false`);
    agent.greet = config.greet;
  }
  if (!Array.isArray(config.tools)) throw invalid(`${file}: tools: must be an array of tools`);
  const seen = new Map<string, number>();
  config.tools.forEach((tool: unknown, index) => agent.tools.push(validateTool(file, tool, index, seen)));
  return agent;
}

function validateTool(file: string, tool: unknown, index: number, seen: Map<string, number>): LoadedTool {
  if (!isRecord(tool)) throw invalid(`${file}: tools[${index}]: must be an object`);
  const label = typeof tool.name === 'string' ? `tool "${tool.name}"` : `tools[${index}]`;
  const fail = (field: string, problem: string) => invalid(`${file}: ${label}: ${field}: ${problem}`);

  if (typeof tool.name !== 'string' || !NAME.test(tool.name)) throw fail('name', 'must be 1-64 characters of letters, digits, _ or -');
  const earlier = seen.get(tool.name);
  if (earlier !== undefined) throw fail('name', `duplicate (also tools[${earlier}])`);
  seen.set(tool.name, index);
  for (const key of Object.keys(tool)) {
    if (!TOOL_FIELDS.has(key)) throw fail(key, `unknown field (expected ${[...TOOL_FIELDS].join(', ')})`);
  }
  if (tool.description !== undefined && typeof tool.description !== 'string') throw fail('description', 'must be a string');
  const timeoutMs = tool.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw fail('timeoutMs', `must be a positive whole number of milliseconds, at most ${MAX_TIMEOUT_MS} (10 min); got ${typeof timeoutMs === 'number' ? timeoutMs : (JSON.stringify(timeoutMs) ?? typeof timeoutMs)}`);
  }

  const kinds = KINDS.filter((kind) => tool[kind] !== undefined);
  if (kinds.length === 0) throw fail('handler', `missing: give exactly one of ${KINDS.join(', ')}`);
  if (kinds.length > 1) throw fail(kinds.join(', '), `give only one of ${KINDS.join(', ')}`);
  const kind = kinds[0]!;
  const problem = kindProblem(kind, tool[kind]);
  if (problem !== null) throw fail(problem.field, problem.message);

  const definition = tool as ToolDefinition;
  const parameters = tool.parameters;
  if (parameters !== undefined && !isZodSchema(parameters) && !(isRecord(parameters) && parameters.type === 'object')) {
    throw fail('parameters', 'must be a JSON Schema with "type": "object" (or a zod object schema)');
  }
  let schema: Record<string, unknown>;
  try {
    schema = toJsonSchema(definition.parameters);
    if (schema.type !== 'object') throw new Error('must describe an object (use z.object)');
    compileArguments(definition.parameters, schema);
  } catch (error) {
    throw fail('parameters', firstLine(error));
  }
  return {
    name: tool.name,
    ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
    parameters: schema,
    timeoutMs,
    kind,
    definition,
  };
}

function kindProblem(kind: ToolKind, value: unknown): { field: string; message: string } | null {
  switch (kind) {
    case 'handler':
      return typeof value === 'function' ? null : { field: 'handler', message: 'must be a function' };
    case 'result':
      try {
        JSON.stringify(value);
        return null;
      } catch (error) {
        return { field: 'result', message: `must be JSON-serialisable (${firstLine(error)})` };
      }
    case 'command':
      if (!(Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string') && value[0] !== '')) {
        return { field: 'command', message: 'must be a non-empty array of strings (argv, no shell)' };
      }
      // No program can receive one: the kernel's argv ends each string at the first NUL.
      return value.some((part: string) => part.includes('\0')) ? { field: 'command', message: 'must not contain NUL characters' } : null;
    case 'http':
      return httpProblem(value);
  }
}

function httpProblem(value: unknown): { field: string; message: string } | null {
  if (!isRecord(value)) return { field: 'http', message: 'must be an object { url, method?, headers? }' };
  for (const key of Object.keys(value)) {
    if (!['url', 'method', 'headers'].includes(key)) return { field: `http.${key}`, message: 'unknown field (expected url, method, headers)' };
  }
  if (typeof value.url !== 'string' || !isHttpUrl(value.url)) {
    return { field: 'http.url', message: 'must be an http:// or https:// URL' };
  }
  // fetch refuses such a URL on every call, quoting it (password and all) in the error the model gets.
  const { username, password } = new URL(value.url);
  if (username !== '' || password !== '') return { field: 'http.url', message: 'must not carry a user name or password (send credentials in http.headers)' };
  if (value.method !== undefined && (typeof value.method !== 'string' || !/^[A-Za-z]+$/.test(value.method))) {
    return { field: 'http.method', message: 'must be an HTTP method such as POST' };
  }
  if (value.headers !== undefined && !(isRecord(value.headers) && Object.values(value.headers).every((v) => typeof v === 'string'))) {
    return { field: 'http.headers', message: 'must map header names to strings' };
  }
  // What fetch would refuse on every call (a name with a space, a value with a line break) is refused now.
  for (const [name, header] of Object.entries((value.headers ?? {}) as Record<string, string>)) {
    if (!HEADER_NAME.test(name)) return { field: 'http.headers', message: `${JSON.stringify(name).slice(0, 80)} is not a valid header name` };
    if (/[\r\n\0]/.test(header)) return { field: `http.headers.${name}`, message: 'must not contain line breaks or NUL characters' };
  }
  return null;
}

function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}
