/** --url: checked before anything else runs, and a warning when the API key would travel in clear text. */
import { HydraError } from './errors.js';
import { redact } from './redact.js';

const SCHEMES = ['ws:', 'wss:', 'http:', 'https:'];

/** The parsed URL, or a usage error (exit 2) that says what is wrong. */
export function parseServerUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HydraError('usage', `--url ${JSON.stringify(redact(url))} is not a URL`, { hint: 'use a WebSocket URL such as wss://api.smallest.ai/waves/v1/s2s' });
  }
  if (!SCHEMES.includes(parsed.protocol)) {
    throw new HydraError('usage', `--url must be a ws:// or wss:// URL (got ${parsed.protocol}//…)`, { hint: 'e.g. wss://api.smallest.ai/waves/v1/s2s' });
  }
  return parsed;
}

export function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  return name === 'localhost' || name.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '::1';
}

/** A URL whose host is this machine (a local `hydra-chat simulate`); false for anything that does not parse. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopback(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** The warning to show when the key would cross a network unencrypted (ws:// or http:// off this machine), else null. */
export function plainTextWarning(url: URL): string | null {
  if (url.protocol !== 'ws:' && url.protocol !== 'http:') return null;
  if (isLoopback(url.hostname)) return null;
  return `${url.host} is reached over plain ${url.protocol}//, so the API key travels unencrypted; use wss://`;
}
