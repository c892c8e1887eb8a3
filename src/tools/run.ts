/**
 * Runs tools the way the model calls them: arguments arrive as JSON text, are parsed and checked
 * against the tool's schema, then the tool runs under an AbortSignal that fires on its timeout or
 * when the session's signal aborts. `run` never rejects: every failure (bad JSON, invalid
 * arguments, a throwing or hanging handler, a failed command or request) becomes an error output
 * `{"error": "..."}` the model can recover from. Outputs are capped in bytes. `replace` swaps in a
 * reloaded agent; calls already running finish with the tool they started with.
 */
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ToolRun, ToolRunner } from '../chat.js';
import type { Tool } from '../protocol.js';
import type { LoadedAgent, LoadedTool } from './config.js';
import { callHttp, runCommand } from './kinds.js';
import { compileArguments, type ArgumentCheck } from './schema.js';
import { capOutput } from './text.js';

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

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function runTool(
  entry: Prepared | undefined,
  name: string,
  argumentsText: string,
  context: { signal: AbortSignal; callId: string },
  maxOutputBytes: number,
): Promise<ToolRun> {
  const started = performance.now();
  const answer = (ok: boolean, output: string): ToolRun => ({ ok, output: capOutput(output, maxOutputBytes), durationMs: performance.now() - started });
  const fail = (message: string): ToolRun => ({ ...answer(false, JSON.stringify({ error: message })), error: message });

  if (entry === undefined) return fail(`unknown tool "${name}"`);
  let parsed: unknown;
  try {
    parsed = argumentsText.trim() === '' ? {} : JSON.parse(argumentsText);
  } catch (error) {
    return fail(`invalid arguments: not valid JSON (${messageOf(error)})`);
  }
  let checked: ReturnType<ArgumentCheck>;
  try {
    checked = entry.check(parsed);
  } catch (error) {
    return fail(`invalid arguments: ${messageOf(error)}`); // a zod refinement that throws
  }
  if (!checked.ok) return fail(`invalid arguments: ${checked.problem}`);
  if (context.signal.aborted) return fail('cancelled');

  // The tool's own signal; `stopped` rejects when it fires so a hanging tool cannot hold the answer.
  const controller = new AbortController();
  const { timeoutMs } = entry.tool;
  let stop!: (message: string) => void;
  const stopped = new Promise<never>((_, reject) => {
    stop = (message) => {
      controller.abort(new Error(message));
      reject(new Error(message));
    };
  });
  const timer = setTimeout(() => stop(`tool timed out after ${timeoutMs} ms`), timeoutMs);
  const onOuterAbort = () => stop('cancelled');
  context.signal.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const value = await Promise.race([invoke(entry, checked.value, { signal: controller.signal, callId: context.callId }), stopped]);
    if (typeof value === 'string') return answer(true, value);
    let output: string;
    try {
      output = JSON.stringify(value ?? null) ?? 'null';
    } catch (error) {
      return fail(`tool result is not JSON-serialisable: ${messageOf(error)}`);
    }
    return answer(true, output);
  } catch (error) {
    return fail(messageOf(error));
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener('abort', onOuterAbort);
  }
}

async function invoke(entry: Prepared, args: unknown, context: { signal: AbortSignal; callId: string }): Promise<unknown> {
  const { definition, kind } = entry.tool;
  switch (kind) {
    case 'handler':
      return definition.handler!(args, context);
    case 'result':
      return definition.result;
    case 'command':
      return runCommand(definition.command!, JSON.stringify(args), entry.cwd, context.signal);
    case 'http':
      return callHttp(definition.http!, args, context.signal);
  }
}
