/**
 * The one place that runs code when the process exits (a crash, process.exit, the end of main):
 * restore the terminal, finish a recording. The CLI installs it; modules register and unregister.
 */
type Hook = () => void;

const hooks = new Set<Hook>();
let installed = false;

/** Called by the CLI at start-up (idempotent); `atExit` installs it too, so library use is safe. */
export function installExitHooks(): void {
  if (installed) return;
  installed = true;
  process.once('exit', runExitHooks);
}

/** Runs `hook` at exit unless the returned function is called first. Hooks run newest first. */
export function atExit(hook: Hook): () => void {
  installExitHooks();
  hooks.add(hook);
  return () => void hooks.delete(hook);
}

function runExitHooks(): void {
  for (const hook of [...hooks].reverse()) {
    hooks.delete(hook);
    try {
      hook();
    } catch {
      // one failing hook must not keep the others (the terminal, a recording) from running
    }
  }
}
