/** Where hydra-chat looks for an agent file by default (kept apart so start-up need not load the config loader). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_TOOLS_FILES = ['hydra.tools.ts', 'hydra.tools.mts', 'hydra.tools.js', 'hydra.tools.mjs', 'hydra.tools.json'];

/** The first default tools file present in `cwd`, or null. */
export function findDefaultToolsFile(cwd: string): string | null {
  for (const name of DEFAULT_TOOLS_FILES) {
    const candidate = join(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}
