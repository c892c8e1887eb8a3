/**
 * Runs tools the way the model calls them: arguments arrive as JSON text, are parsed and checked
 * against the tool's schema, then the tool runs under an AbortSignal that fires on its timeout or
 * when the session's signal aborts. `run` never rejects: every failure (bad JSON, invalid
 * arguments, a throwing or hanging handler, a failed command or request) becomes an error output
 * `{"error": "..."}` the model can recover from. Outputs are capped in bytes (a command or request
 * is stopped once its output passes the cap). There is no cap on calls running at once: every call
 * is answered. `replace` swaps in a
 * reloaded agent; calls already running finish with the tool they started with.
 */
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ToolRun, ToolRunner } from '../chat.js';
import { nestedPast, type Tool } from '../protocol.js';
import { withoutSecrets, withoutSecretsAtCuts } from '../redact.js';
import type { LoadedAgent, LoadedTool } from './config.js';
import { runHandler } from './handler.js';
import { callHttp, runCommand } from './kinds.js';
import { compileArguments, type ArgumentCheck, type ArgumentCheckResult } from './schema.js';
import { capOutput, markTruncated, StreamedOutput } from './text.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024;

export type AgentToolRunner = ToolRunner & { replace(agent: LoadedAgent): void; agent(): LoadedAgent };

type Prepared = { tool: LoadedTool; check: ArgumentCheck; cwd: string };

export function createToolRunner(agent: LoadedAgent, options: { maxOutputBytes?: number } = {}): AgentToolRunner {
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  let current = agent;
  let tools = prepare(agent);
  return {
    declarations: () =>
      current.tools.map((tool): Tool => ({
        type: 'function',
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.parameters,
      })),
    run: (name, argumentsText, context) => runTool(tools.get(name), name, argumentsText, context, maxOutputBytes),
    replace: (next) => {
      tools = prepare(next);
      current = next;
    },
    agent: () => current,
  };
}

function prepare(agent: LoadedAgent): Map<string, Prepared> {
  const cwd = dirname(agent.path);
  return new Map(agent.tools.map((tool) => [tool.name, { tool, check: compileArguments(tool.definition.parameters, tool.parameters), cwd }]));
}

/** Deeper than the arguments of any real call; past it, whatever walks them next (a schema check, JSON.stringify) could run out of stack. */
const MAX_ARGUMENTS_DEPTH = 100;

/**
 * The model's arguments: parsed (empty text is `{}`), at most MAX_ARGUMENTS_DEPTH deep, with every
 * `__proto__` key dropped: a handler that merges its arguments (Object.assign) must not get a
 * model-chosen prototype (no schema can declare one: compileArguments refuses it). Walked without
 * recursion, as JSON.parse itself reads any depth.
 */
function parseArguments(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not valid JSON (${messageOf(error)})` };
  }
  // Reflect.deleteProperty removes an own `__proto__` key only: JSON.parse never sets a prototype.
  const deep = nestedPast(value, MAX_ARGUMENTS_DEPTH, (node) => Reflect.deleteProperty(node, '__proto__'));
  return deep ? { ok: false, problem: `nested more than ${MAX_ARGUMENTS_DEPTH} levels deep` } : { ok: true, value };
}

/**
 * What a failure says: an Error's message, a thrown `{ message }` or string as is, anything else as
 * JSON. Never throws, whatever was thrown (a Proxy, a `message` getter that throws).
 */
function messageOf(error: unknown): string {
  let text: string;
  try {
    text = describeThrown(error);
  } catch {
    return 'the tool failed with a value that cannot be read';
  }
  return text.trim() === '' ? 'the tool failed without saying why (an empty message)' : text;
}

function describeThrown(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

async function runTool(
  entry: Prepared | undefined,
  name: string,
  argumentsText: string,
  context: { signal: AbortSignal; callId: string },
  maxOutputBytes: number,
): Promise<ToolRun> {
  const started = performance.now();
  // The API key never leaves in an output, even one that read it from a file: the model would say it
  // aloud (into recordings), and the screen and logs show what the model got.
  const answer = (ok: boolean, output: string): ToolRun => ({ ok, output: capOutput(withoutSecrets(output), maxOutputBytes), durationMs: performance.now() - started });
  const fail = (message: string): ToolRun => ({ ...answer(false, JSON.stringify({ error: message })), error: withoutSecrets(message) });

  if (entry === undefined) return fail(`unknown tool "${name}"`);
  const arguments_ = parseArguments(argumentsText);
  if (!arguments_.ok) return fail(`invalid arguments: ${arguments_.problem}`);
  const parsed = arguments_.value;
  if (context.signal.aborted) return fail('cancelled');

  // The call's own signal: it aborts on the tool's timeout or when the session's signal does.
  // AbortSignal.any adds no listener to the session's signal, however many calls share it.
  const { timeoutMs } = entry.tool;
  const timeout = new AbortController();
  const signal = AbortSignal.any([context.signal, timeout.signal]);
  const why = (): string => (context.signal.aborted ? 'cancelled' : `tool timed out after ${timeoutMs} ms`);
  // Rejects when the signal fires, so neither a slow argument check nor a hanging tool holds the answer.
  const stopped = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(why())), { once: true }));
  stopped.catch(() => undefined);
  const timer = setTimeout(() => timeout.abort(new Error(`tool timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    let checked: ArgumentCheckResult;
    try {
      checked = await Promise.race([entry.check(parsed, signal), stopped]);
    } catch (error) {
      if (context.signal.aborted) return fail('cancelled');
      if (signal.aborted) return fail(`invalid arguments: checking them took longer than the tool's timeout (${timeoutMs} ms)`);
      return fail(`invalid arguments: ${messageOf(error)}`); // a zod refinement that throws
    }
    if (!checked.ok) return fail(`invalid arguments: ${checked.problem}`);
    const value = await Promise.race([invoke(entry, checked.value, { signal, callId: context.callId }, maxOutputBytes), stopped]);
    if (value instanceof StreamedOutput) return answer(true, value.truncated ? markTruncated(value.text, maxOutputBytes, withoutSecretsAtCuts) : value.text);
    if (typeof value === 'string') return answer(true, value);
    let output: string;
    try {
      output = JSON.stringify(value ?? null) ?? 'null';
    } catch (error) {
      return fail(`tool result is not JSON-serialisable: ${messageOf(error)}`);
    }
    return answer(true, output);
  } catch (error) {
    return fail(signal.aborted ? why() : messageOf(error));
  } finally {
    clearTimeout(timer);
  }
}

async function invoke(entry: Prepared, args: unknown, context: { signal: AbortSignal; callId: string }, maxBytes: number): Promise<unknown> {
  const { definition, kind } = entry.tool;
  switch (kind) {
    case 'handler':
      return runHandler(entry.tool.name, definition.handler!, args, context);
    case 'result':
      return definition.result;
    case 'command':
      return runCommand(definition.command!, JSON.stringify(args), entry.cwd, context.signal, maxBytes);
    case 'http':
      return callHttp(definition.http!, args, context.signal, maxBytes);
  }
}
