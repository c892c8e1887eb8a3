/** One tool call run for the model: the runner's answer, or an error output it can recover from. Never rejects. */
import { performance } from 'node:perf_hooks';
import type { ToolRun, ToolRunner } from './chat-types.js';

export async function callTool(runner: ToolRunner | undefined, name: string, argumentsText: string, options: { signal: AbortSignal; callId: string }): Promise<ToolRun> {
  if (!runner) {
    return { ok: false, output: JSON.stringify({ error: `no handler for tool "${name}" in this client` }), durationMs: 0, error: 'no handler' };
  }
  const started = performance.now();
  try {
    return await runner.run(name, argumentsText, options);
  } catch (error) {
    // The runner promises not to throw; if it does anyway, the model still gets an answer.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, output: JSON.stringify({ error: message }), durationMs: performance.now() - started, error: message };
  }
}
