/**
 * Hot reload of a tools config. Watches the file's directory (editors save by writing a new file and
 * renaming it over the old one, which a watch on the file itself would lose), debounces bursts of
 * events, skips events that left the content unchanged, and reloads one change at a time so results
 * arrive in order. Each reload re-imports the file afresh (TS/JS configs are not cached).
 */
import { watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { HydraError, toHydraError } from '../errors.js';
import { loadAgentConfig, type LoadedAgent } from './config.js';
import { declaresCommands, wasFoundByDefault } from './files.js';
import { CONFIG_FILE_MAX_BYTES, readTextFile, readTextFileSync } from '../text-file.js';

export type ReloadResult = { ok: true; agent: LoadedAgent } | { ok: false; error: HydraError };

const DEBOUNCE_MS = 100;

export function watchAgentConfig(path: string, onChange: (result: ReloadResult) => void): { close(): void } {
  const absolute = resolve(path);
  const name = basename(absolute);
  let last = readOrNull(absolute);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let queue = Promise.resolve();

  const reload = async () => {
    let content: string | null;
    try {
      content = await readTextFile(absolute, { maxBytes: CONFIG_FILE_MAX_BYTES });
    } catch {
      content = null;
    }
    if (closed || content === last) return;
    last = content;
    if (content !== null && wasFoundByDefault(absolute) && declaresCommands(content)) {
      // Loaded because it was in the folder: an edit cannot make it run programs (see files.ts).
      const message = `${path} now declares command tools, which run programs when the model calls them; a file loaded because it was in this folder may not (name it: hydra-chat --tools ${name})`;
      onChange({ ok: false, error: new HydraError('config-invalid', message) });
      return;
    }
    const result: ReloadResult = await loadAgentConfig(path).then(
      (agent) => ({ ok: true as const, agent }),
      (error: unknown) => ({ ok: false as const, error: toHydraError(error, 'config-invalid') }),
    );
    if (!closed) onChange(result);
  };

  const watcher = watch(dirname(absolute), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      queue = queue.then(reload);
    }, DEBOUNCE_MS);
  });
  watcher.on('error', () => undefined); // the directory went away; nothing left to watch

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

function readOrNull(path: string): string | null {
  try {
    return readTextFileSync(path, CONFIG_FILE_MAX_BYTES);
  } catch {
    return null;
  }
}
