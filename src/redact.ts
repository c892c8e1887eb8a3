/** Keeps the API key out of everything a person or a file sees. */

/** A query value ends at a quote or a backslash too: run over JSON text, redaction must not eat an escape. */
const KEY_IN_URL = /([?&](?:api_key|token|access_token)=)[^&#\s"'\\]*/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
/**
 * The password of `scheme://user:password@host` (a proxy's or a server's basic auth). Quotes, backslashes
 * and angle brackets never occur in a URL's user info: stopping there keeps `"http://localhost:8080","mail":"a@b"`
 * (a host and port, then text) from being read as one.
 */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'\\<>]*:)[^\s/?#@"'\\<>]*@/gi;

const registered = new Set<string>();

/** Remember a secret so that `redact` removes it wherever it shows up, not only in URLs. */
export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < 4) return;
  // A key read from a file can end in a line break (\r\n) or a space; a server echoes it trimmed.
  const trimmed = secret.trim();
  if (trimmed !== secret) registerSecret(trimmed);
  registered.add(secret);
  // As it appears in a URL's query (`+` and `/` become %2B and %2F).
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) registered.add(encoded);
}

/**
 * Remember the secrets a URL carries — its password and its api_key / token query values, however their
 * names are percent-encoded (`api%5Fkey=` is `api_key=` to the server) — so they are removed everywhere.
 */
export function registerUrlSecrets(url: string | undefined): void {
  let parsed: URL;
  try {
    parsed = new URL(url ?? '');
  } catch {
    return;
  }
  if (parsed.password !== '') {
    registerSecret(parsed.password);
    try {
      registerSecret(decodeURIComponent(parsed.password));
    } catch {
      // not valid percent-encoding (`pw%zz`): the password is only ever shown as written
    }
  }
  for (const [name, value] of parsed.searchParams) if (/^(?:api_key|token|access_token)$/i.test(name)) registerSecret(value);
}

/** The text with every known secret, every api_key query value and every URL password replaced by `***`. */
export function redact(text: string): string {
  return withoutSecrets(text.replace(KEY_IN_URL, '$1***').replace(BEARER, '$1***').replace(URL_PASSWORD, '$1***@'));
}

/** The text with only the registered secrets replaced by `***` (a tool's output: its own URLs and tokens stay). */
export function withoutSecrets(text: string): string {
  let out = text;
  for (const secret of registered) out = out.split(secret).join('***');
  return out;
}

/**
 * `withoutSecrets` for text cut out of a longer one (a capped output's head, stderr's tail): a secret
 * cut in two leaves its start at the text's end or its end at the text's start; 4 or more of its
 * characters there are replaced by `***` too.
 */
export function withoutSecretsAtCuts(text: string): string {
  let out = withoutSecrets(text);
  for (const secret of registered) {
    for (let n = secret.length - 1; n >= 4; n--) {
      if (out.endsWith(secret.slice(0, n))) {
        out = `${out.slice(0, -n)}***`;
        break;
      }
    }
    for (let n = secret.length - 1; n >= 4; n--) {
      if (out.startsWith(secret.slice(-n))) {
        out = `***${out.slice(n)}`;
        break;
      }
    }
  }
  return out;
}

/** Whether a registered secret occurs in `text` (an environment variable that holds the key under another name). */
export function holdsSecret(text: string): boolean {
  for (const secret of registered) if (text.includes(secret)) return true;
  return false;
}
