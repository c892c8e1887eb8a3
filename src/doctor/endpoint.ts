/**
 * doctor: can the endpoint be reached? DNS, then TCP (+ TLS for wss://), then the HTTP upgrade — sent
 * WITHOUT a key, so the server answers 401 and no (billed) session starts. The key itself is therefore
 * not verified here.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { WebSocket } from '../ws.js';
import { fail, ok, type Check } from './check.js';

const TIMEOUT_MS = 5000;

export async function endpointChecks(endpoint: string, model: string): Promise<Check[]> {
  let url: URL;
  try {
    url = new URL(endpoint);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error('not ws:// or wss://');
  } catch {
    return [fail('endpoint', `${endpoint} is not a ws:// or wss:// URL`, 'hydra-chat --url wss://api.smallest.ai/waves/v1/s2s doctor')];
  }
  const checks: Check[] = [];
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0) {
    try {
      const { address } = await lookup(host);
      checks.push(ok('dns', `${host} → ${address}`));
    } catch (error) {
      checks.push(fail('dns', `cannot resolve ${host} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'check the host in --url and your network (e.g. `getent hosts ' + host + '`)'));
      return checks;
    }
  }
  checks.push(await upgradeCheck(url, model));
  return checks;
}

/** The upgrade without a key: 401 is the healthy answer; the socket never opens a session. */
function upgradeCheck(url: URL, model: string): Promise<Check> {
  const probe = new URL(url);
  probe.searchParams.delete('api_key');
  probe.searchParams.set('model', model);
  const tls = url.protocol === 'wss:' ? 'TLS ok · ' : '';
  const name = 'endpoint';
  return new Promise((resolve) => {
    const socket = new WebSocket(probe, { handshakeTimeout: TIMEOUT_MS });
    const done = (check: Check): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
      resolve(check);
    };
    socket.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      if (status === 401) done(ok(name, `${url.host} answers: ${tls}HTTP 401 to an upgrade without a key, as expected (no session started)`));
      else if (status === 400) done({ name, status: 'warn', detail: `${url.host} answers HTTP 400 to the upgrade: is model ${model} served there? (${tls}reachable)`, fix: 'hydra-chat voices   (then pick a model the endpoint serves with --model)' });
      else if (status === 404) done(fail(name, `${url.host} answers HTTP 404: wrong path`, 'hydra-chat --url wss://api.smallest.ai/waves/v1/s2s doctor'));
      else done(fail(name, `${url.host} answers HTTP ${status} to the upgrade`, status >= 500 ? 'the service has a problem; try again later' : 'check --url (the path is /waves/v1/s2s)'));
    });
    socket.on('open', () => {
      // No key, yet accepted: a server that does not check keys (some local setups). Close at once.
      socket.close(1000);
      done({ name, status: 'warn', detail: `${url.host} accepted an upgrade without a key (${tls}no auth check?)` });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      if (code === 'ECONNREFUSED') done(fail(name, `connection refused by ${url.host}`, 'is the server running? locally: hydra-chat simulate --port ' + (url.port || '8765')));
      else if (/CERT|TLS|SSL|EPROTO/.test(code) || /certificate|tls|ssl/i.test(error.message)) {
        done(fail(name, `TLS failed with ${url.host}: ${error.message}`, 'use ws:// for a plain local server, or fix the system clock / CA certificates (sudo apt-get install ca-certificates)'));
      } else done(fail(name, `cannot reach ${url.host}: ${error.message}`, 'check your network, proxy and firewall (wss:// needs outbound port 443)'));
    });
  });
}
