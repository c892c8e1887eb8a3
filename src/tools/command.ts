/**
 * `hydra-chat tools check <file>` validates a tools config and lists its tools; `hydra-chat tools
 * call <file> <name> [json]` runs one tool once exactly as a model call would (same parsing, schema
 * check, timeout and output cap) and prints its output. Failures propagate as HydraErrors for the
 * CLI's top level to print and map to an exit status.
 */
import type { Command } from 'commander';
import type { ToolRun } from '../chat.js';
import { HydraError } from '../errors.js';
import { cleanField, stripControls } from '../ui/sanitize.js';
import type { LoadedTool } from './config.js';

/** `signal` (the CLI's Ctrl-C) stops a config load or a running tool. */
export type ToolsCommandIo = { out: (line: string) => void; err: (line: string) => void; signal?: AbortSignal };

export function registerToolsCommand(program: Command, io: ToolsCommandIo): void {
  const tools = program.command('tools').description('check and try out a tools config (hydra.tools.ts / .json)');
  tools
    .command('check <file>')
    .description('validate a tools config and list its tools')
    .action(async (file: string) => {
      // Loaded on use: the TypeScript loader and the schema compiler stay out of every other command's start-up.
      const { loadAgentConfig } = await import('./config.js');
      const agent = await loadAgentConfig(file, { ...(io.signal ? { signal: io.signal } : {}) });
      io.out(`${cleanField(file)}: ${agent.tools.length} tool${agent.tools.length === 1 ? '' : 's'}, valid`);
      for (const tool of agent.tools) io.out(`  ${describe(tool)}`);
    });
  tools
    .command('call <file> <name> [json]')
    .description('run one tool once, as the model would call it, and print its output')
    .action(async (file: string, name: string, json: string | undefined) => {
      const [{ loadAgentConfig }, { createToolRunner }, { captureConsole }] = await Promise.all([import('./config.js'), import('./run.js'), import('./console.js')]);
      const signal = io.signal ?? new AbortController().signal;
      // What the config's code logs (console.log in a handler) is its log, not the tool's output: stderr,
      // so `| jq` gets the output alone.
      const releaseConsole = captureConsole(io.err);
      let result: ToolRun;
      try {
        const runner = createToolRunner(await loadAgentConfig(file, { signal }));
        if (!runner.agent().tools.some((tool) => tool.name === name)) {
          const names = runner.agent().tools.map((tool) => tool.name).join(', ');
          throw new HydraError('usage', `${file}: no tool "${name}" (tools: ${names === '' ? 'none' : names})`);
        }
        result = await runner.run(name, json ?? '{}', { signal, callId: 'call_cli' });
      } finally {
        releaseConsole();
      }
      if (signal.aborted) throw new HydraError('interrupted', `stopped tool "${name}"`);
      if (result.ok) {
        // The output may come from anywhere (an HTTP tool's body): on a terminal it must not drive it.
        // Piped, it is passed on byte for byte (| jq).
        io.out(process.stdout.isTTY ? stripControls(result.output) : result.output);
        return;
      }
      // The error output quotes what the tool said (a command's stderr, an HTTP body): as the output above.
      io.err(process.stderr.isTTY ? stripControls(result.output) : result.output);
      // One line (a command's stderr may have several; the error output above keeps them).
      const why = (result.error ?? 'error').trim().replace(/\s*\n\s*/g, ' ⏎ ');
      throw new HydraError('tool', `tool "${name}" failed after ${Math.round(result.durationMs)} ms: ${why}`);
    });
}

function describe(tool: LoadedTool): string {
  const properties = tool.parameters.properties;
  const names = typeof properties === 'object' && properties !== null ? Object.keys(properties) : [];
  // Property names are any string the file holds: listed, they must not drive the terminal.
  return `${tool.name}  ${tool.kind}  timeout ${tool.timeoutMs} ms  (${names.map((name) => cleanField(name, 80)).join(', ')})`;
}
