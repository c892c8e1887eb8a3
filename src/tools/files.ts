/**
 * Where hydra-chat looks for an agent file by default (kept apart so start-up need not load the
 * config loader). Only `hydra.tools.json` loads just because it is there: it is data. A code config
 * (`hydra.tools.ts/.mts/.js/.mjs`) runs with the user's permissions and environment, so a folder
 * someone else prepared must not run it on a plain `hydra-chat`; it loads only when named with
 * `--tools`, and finding one says so. The same holds for a `hydra.tools.json` that declares
 * `command` tools: each names a program (often a script next to the file) that a model's call runs.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_FILE_MAX_BYTES, readTextFileSync } from '../text-file.js';

export const DEFAULT_TOOLS_FILES = ['hydra.tools.json'];

/** Files loaded because they were in the working folder (not named): their reloads may not add command tools. */
const foundByDefault = new Set<string>();

/** Whether `path` was loaded only because it was in the working folder. */
export function wasFoundByDefault(path: string): boolean {
  return foundByDefault.has(resolve(path));
}
export const CODE_TOOLS_FILES = ['hydra.tools.ts', 'hydra.tools.mts', 'hydra.tools.js', 'hydra.tools.mjs'];

/**
 * `hydra.tools.json` in `cwd`, or null. A code config found there is not loaded: `onSkipped` gets
 * one line saying how to use it.
 */
export function findDefaultToolsFile(cwd: string, onSkipped?: (line: string) => void): string | null {
  const code = CODE_TOOLS_FILES.find((name) => existsSync(join(cwd, name)));
  if (code !== undefined) {
    onSkipped?.(`${code} is in this folder but was not run: code configs run with your permissions, so they load only when named (hydra-chat --tools ${code})`);
  }
  const json = join(cwd, DEFAULT_TOOLS_FILES[0]!);
  if (!existsSync(json)) return null;
  if (declaresCommands(readOrEmpty(json))) {
    onSkipped?.(
      `${DEFAULT_TOOLS_FILES[0]} is in this folder but was not loaded: it declares command tools, which run programs when the model calls them, so it loads only when named (hydra-chat --tools ${DEFAULT_TOOLS_FILES[0]})`,
    );
    return null;
  }
  foundByDefault.add(resolve(json));
  return json;
}

function readOrEmpty(path: string): string {
  try {
    return readTextFileSync(path, CONFIG_FILE_MAX_BYTES);
  } catch {
    return ''; // not a readable regular file: the loader says what is wrong with it
  }
}

/** Whether tools JSON text declares a `command` tool (invalid JSON: no; the loader reports it). */
export function declaresCommands(text: string): boolean {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return false;
  }
  const tools: unknown = Array.isArray(config) ? config : typeof config === 'object' && config !== null ? (config as { tools?: unknown }).tools : undefined;
  return Array.isArray(tools) && tools.some((tool) => typeof tool === 'object' && tool !== null && Object.hasOwn(tool, 'command'));
}
