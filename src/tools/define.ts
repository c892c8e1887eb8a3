/**
 * The authoring API for tool configs: `defineTool` and `defineAgent` are typed identities that a
 * `hydra.tools.ts` file imports from 'hydra-chat'. A tool has a name, an optional description, its
 * parameters (a JSON Schema object or a zod schema, whose parsed type then types the handler's
 * arguments), an optional timeout, and exactly one way to answer: a handler function, a canned
 * `result`, a `command` (argv, arguments as JSON on stdin) or an `http` endpoint.
 */
import type { z, ZodType } from 'zod';

export type ToolContext = { signal: AbortSignal; callId: string };
export type ToolHandler = (args: any, ctx: ToolContext) => unknown | Promise<unknown>;

export type ToolDefinition = {
  name: string;
  description?: string;
  parameters?: Record<string, unknown> | ZodType;
  timeoutMs?: number;
  handler?: ToolHandler;
  result?: unknown;
  command?: string[];
  http?: { url: string; method?: string; headers?: Record<string, string> };
};

type Common = Omit<ToolDefinition, 'parameters' | 'handler'>;

/** A tool whose handler receives arguments of type T (inferred from a zod schema when given). */
export function defineTool<S extends ZodType>(
  def: Common & { parameters: S; handler?: (args: z.infer<S>, ctx: ToolContext) => unknown | Promise<unknown> },
): ToolDefinition;
export function defineTool<T = any>(
  def: Common & { parameters?: Record<string, unknown>; handler?: (args: T, ctx: ToolContext) => unknown | Promise<unknown> },
): ToolDefinition;
export function defineTool(def: ToolDefinition): ToolDefinition {
  return def;
}

export type AgentConfig = { instructions?: string; voice?: string; model?: string; greet?: boolean; tools: ToolDefinition[] };

/** A whole agent: session settings plus its tools. */
export function defineAgent(config: AgentConfig): AgentConfig {
  return config;
}
