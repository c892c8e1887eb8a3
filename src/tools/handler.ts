/**
 * A handler function run for the model, in hydra-chat's own process. A handler that calls
 * process.exit() would end the whole chat (mid-reply, with whatever exit code it chose and no
 * message): inside a handler's async context (its awaits and timers too) process.exit throws
 * instead, so the call fails with an error output and the session goes on. Everyone else's
 * process.exit (Ctrl-C twice, the crash handler) is untouched.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ToolContext, ToolHandler } from './define.js';

const runningTool = new AsyncLocalStorage<string>();
let exitGuarded = false;

/** Runs `handler` for tool `name`; what it returns or throws is the caller's. */
export function runHandler(name: string, handler: ToolHandler, args: unknown, context: ToolContext): unknown {
  guardExit();
  return runningTool.run(name, () => handler(args, context));
}

/**
 * Runs `fn` outside every handler's context. For code a handler's failure sets off that must act as
 * hydra-chat's own: the crash handler runs in the context of the timer that threw, and its message and
 * its bounded exit must not be taken for the handler's.
 */
export function outsideToolHandlers<T>(fn: () => T): T {
  return runningTool.exit(fn);
}

/** Whether the code running now was started by a handler (inside its call, its awaits or its timers). */
export function inToolHandler(): boolean {
  return runningTool.getStore() !== undefined;
}

/** The tool whose handler started the code running now, if one did. */
export function currentToolHandler(): string | undefined {
  return runningTool.getStore();
}

function guardExit(): void {
  if (exitGuarded) return;
  exitGuarded = true;
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    const tool = runningTool.getStore();
    if (tool === undefined) return exit(code);
    throw new Error(`tool "${tool}" called process.exit(${code ?? ''}); a handler cannot end hydra-chat (throw an Error to fail the call)`);
  }) as typeof process.exit;
}
