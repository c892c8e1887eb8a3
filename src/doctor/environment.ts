/** doctor: Node's version and the API key (present or not; never printed). */
import { fail, ok, type Check } from './check.js';

const MINIMUM = [20, 3] as const;

export function nodeCheck(version = process.versions.node): Check {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1])) return ok('node', `v${version} (needs >= ${MINIMUM.join('.')})`);
  return fail('node', `v${version} is too old (hydra-chat needs >= ${MINIMUM.join('.')})`, 'install Node 22 LTS, e.g. `nvm install 22`');
}

export function keyCheck(key: string | undefined, from: 'flag' | 'env', local: boolean): Check {
  if (key !== undefined && key !== '') {
    const where = from === 'flag' ? '--api-key (prefer SMALLEST_API_KEY: flags show in `ps`)' : 'SMALLEST_API_KEY';
    return ok('api key', `present in ${where}, ${key.length} characters (not shown; not verified: that would start a billed session)`);
  }
  if (local) return ok('api key', 'none needed: the endpoint is local (a placeholder is sent)');
  return fail('api key', 'no API key', 'export SMALLEST_API_KEY=<your key>   (or try offline: hydra-chat --mock)');
}
