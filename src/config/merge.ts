/**
 * Layering of settings: flags > project file (the agent config) > user file > built-in defaults.
 * Pure: callers pass what Commander parsed, where each value came from, and the files' contents.
 */
import { DEFAULTS } from '../defaults.js';
import { DEFAULT_URL, pickModel } from '../models.js';
import { SETTING_KEYS, type SettingKey, type Settings } from './settings.js';

/** Keys the agent config (the project file) can also set: they are resolved after it is loaded. */
export const AGENT_KEYS = ['voice', 'model', 'greet'] as const satisfies readonly SettingKey[];
const isAgentKey = (key: SettingKey): boolean => (AGENT_KEYS as readonly string[]).includes(key);

export type Source = 'flag' | 'project' | 'user' | 'default';
export type Resolved = { key: SettingKey; value: string | number | boolean | undefined; source: Source; shown: string };

/**
 * Splits the user file for the chat command: keys the agent config cannot set are filled into the options
 * now (where no flag set them); voice, model and greet come back as `agentDefaults`, applied only where
 * neither a flag nor the agent config sets them.
 */
export function applyUserSettings<T extends Record<string, unknown>>(
  options: T,
  fromFlag: (key: SettingKey) => boolean,
  user: Settings,
): { options: T; agentDefaults: Settings } {
  const merged: Record<string, unknown> = { ...options };
  const agentDefaults: Settings = {};
  for (const key of Object.keys(SETTING_KEYS) as SettingKey[]) {
    if (fromFlag(key)) continue;
    const value = user[key];
    if (isAgentKey(key)) {
      if (value !== undefined) (agentDefaults as Record<string, unknown>)[key] = value;
      // A Commander default is no flag: leave it undefined so the project file can still set it.
      delete merged[key];
    } else if (value !== undefined) {
      merged[key] = value;
    }
  }
  return { options: merged as T, agentDefaults };
}

/** Fills what is still unset in `options` from `defaults`. */
export function withDefaults<T extends object>(options: T, defaults: Settings | undefined): T {
  if (!defaults) return options;
  const filled = { ...options } as Record<string, unknown>;
  for (const [key, value] of Object.entries(defaults)) if (filled[key] === undefined) filled[key] = value;
  return filled as T;
}

/** Every setting with its value and where it came from, for `hydra-chat config`. */
export function resolveSettings(layers: { flags: Settings; project: Settings; user: Settings }): Resolved[] {
  const rows: Resolved[] = [];
  for (const key of Object.keys(SETTING_KEYS) as SettingKey[]) {
    const [source, value] =
      layers.flags[key] !== undefined
        ? (['flag', layers.flags[key]] as const)
        : isAgentKey(key) && layers.project[key] !== undefined
          ? (['project', layers.project[key]] as const)
          : layers.user[key] !== undefined
            ? (['user', layers.user[key]] as const)
            : (['default', undefined] as const);
    rows.push({ key, value, source, shown: value === undefined ? builtIn(key) : String(value) });
  }
  // The model a run uses follows the voice when no layer names one.
  const model = rows.find((row) => row.key === 'model')!;
  const voice = rows.find((row) => row.key === 'voice')!;
  if (model.value === undefined) {
    const picked = pickModel(voice.value as string | undefined, undefined);
    model.shown = voice.value === undefined ? `${picked} (the current model)` : `${picked} (picked by the voice ${String(voice.value)})`;
  }
  return rows;
}

function builtIn(key: SettingKey): string {
  switch (key) {
    case 'voice':
      return "(none sent: the server's default)";
    case 'url':
      return DEFAULT_URL;
    case 'inputDevice':
    case 'outputDevice':
      return '(the system default)';
    case 'echoGuard':
      return 'cancel with a speaker (--echo), off with --output';
    case 'greet':
      return 'false';
    case 'frameMs':
      return String(DEFAULTS.frameMs);
    case 'maxRetries':
      return String(DEFAULTS.maxRetries);
    case 'model':
      return '';
  }
}
