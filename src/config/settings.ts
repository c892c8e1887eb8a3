/**
 * User-level defaults: `$XDG_CONFIG_HOME/hydra-chat/config.json` (else `~/.config/hydra-chat/config.json`).
 * Precedence, highest first: command-line flags > the project file (the agent config, hydra.tools.* or
 * --tools, for the fields it has: voice, model, greet) > this user file > built-in defaults.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { HydraError } from '../errors.js';
import { CONFIG_FILE_MAX_BYTES, readTextFile, TextFileError } from '../text-file.js';

/** The keys a defaults file may set, with their type; named as the long flags, in camelCase. */
export const SETTING_KEYS = {
  voice: 'string',
  model: 'string',
  url: 'string',
  inputDevice: 'string',
  outputDevice: 'string',
  echoGuard: 'boolean',
  greet: 'boolean',
  frameMs: 'number',
  maxRetries: 'number',
} as const;

export type SettingKey = keyof typeof SETTING_KEYS;
export type Settings = { -readonly [K in SettingKey]?: (typeof SETTING_KEYS)[K] extends 'string' ? string : (typeof SETTING_KEYS)[K] extends 'boolean' ? boolean : number };

/** The flag each key corresponds to, for messages. */
export function flagOf(key: SettingKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Where the user file lives for this environment (it need not exist). */
export function userConfigPath(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'hydra-chat', 'config.json');
}

/** Reads the user file: null when there is none; a broken one is a HydraError (exit 2) naming the file and the problem. */
export async function loadUserSettings(env: NodeJS.ProcessEnv): Promise<{ path: string; settings: Settings } | null> {
  const path = userConfigPath(env);
  let text: string;
  try {
    text = await readTextFile(path, { maxBytes: CONFIG_FILE_MAX_BYTES });
  } catch (error) {
    if (!(error instanceof TextFileError)) throw error;
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw broken(path, `cannot read it (${error.why})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw broken(path, `not valid JSON (${(error as Error).message})`);
  }
  return { path, settings: validateSettings(data, path) };
}

/** Checks a parsed file: an object of known keys with the right types. */
export function validateSettings(data: unknown, path: string): Settings {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw broken(path, 'expected a JSON object like {"voice": "aria"}');
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!Object.hasOwn(SETTING_KEYS, key)) {
      throw broken(path, `unknown key "${key}" (known: ${Object.keys(SETTING_KEYS).join(', ')})`);
    }
    const type = SETTING_KEYS[key as SettingKey];
    if (typeof value !== type || (type === 'string' && value === '') || (type === 'number' && !(Number.isInteger(value) && (value as number) >= 0))) {
      throw broken(path, `"${key}" must be ${type === 'number' ? 'a whole number' : type === 'string' ? 'a non-empty string' : 'true or false'}`);
    }
    settings[key] = value;
  }
  return settings as Settings;
}

function broken(path: string, problem: string): HydraError {
  return new HydraError('usage', `config file ${path}: ${problem}`);
}
