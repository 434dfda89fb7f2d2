/**
 * Credentials in repo urls: the one place that knows what a secret in a url
 * looks like. A request's clone url may carry them (`https://user:token@host/…`,
 * `?access_token=…`, `ssh://user:password@…`); everything farm publishes,
 * logs or stores uses the url without them, and git gets them only through
 * its environment (see gitCredentials), never on a command line or on disk.
 */
import { redactUrl, SECRET_PARAM } from "../fabric/redact.js";

export { redactUrl, SECRET_PARAM };

const SCHEME_URL_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * `url` without userinfo (a token often is the user name) and without
 * secret-looking query parameters, as an absolute URI (`URL.href`). ssh keeps
 * its user name, which is not a secret (git@…), but never a password.
 * @throws TypeError when `url` is not an absolute url
 */
export function withoutCredentials(url: string): string {
  const u = new URL(url);
  if (u.protocol !== "ssh:") u.username = "";
  u.password = "";
  for (const name of [...u.searchParams.keys()]) if (SECRET_PARAM.test(name)) u.searchParams.delete(name);
  if (u.search === "?") u.search = "";
  return u.href;
}

/**
 * The repository's identity as farm shows and stores it: the url without
 * credentials, spelled as the client spelled it when it carried none (so
 * clients recognise their repo in events), withoutCredentials otherwise.
 * Local paths and scp-like `user@host:path` (no password possible) are kept.
 * Total: anything that is not a parseable url is redacted as text.
 */
export function repoIdentity(repo: string): string {
  if (!SCHEME_URL_RE.test(repo)) return repo;
  let u: URL;
  try {
    u = new URL(repo);
  } catch {
    // Not a url (a local path, scp form): nothing to strip but what redactUrl finds.
    return redactUrl(repo);
  }
  return secretsOf(u).length === 0 && !hasSecretParam(u) ? repo : withoutCredentials(repo);
}

/** Replaces each secret's occurrences in `text` (after redactUrl, which catches the url-shaped ones). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = redactUrl(text);
  for (const s of secrets) if (s) out = out.split(s).join("***");
  return out;
}

/** What git needs to fetch from a clone url whose credentials must not reach disk, argv or logs. */
export interface GitCredentials {
  /** The url git is given on its command line and stores as the remote: no credentials. */
  url: string;
  /** Extra environment for git: the credentials and the config that hands them over. Empty when there are none. */
  env: Record<string, string>;
  /** Every secret of the clone url, raw and percent-decoded: scrubbed from git's messages. */
  secrets: string[];
}

/** Environment variables the credential helper reads (never a command line: /proc/<pid>/cmdline is world-readable). */
export const USERNAME_VAR = "FARM_GIT_USERNAME";
export const PASSWORD_VAR = "FARM_GIT_PASSWORD";

// Answers git's "get" from the environment; ignores "store"/"erase", so nothing is written anywhere.
const HELPER = `!f() { test "$1" = get || exit 0; printf 'username=%s\\npassword=%s\\n' "$${USERNAME_VAR}" "$${PASSWORD_VAR}"; }; f`;

/**
 * How to hand a clone url's credentials to git:
 * - https user and password: a credential helper scoped to the url's origin,
 *   reading them from the environment (so a redirect to another host does not
 *   get them, and no helper of the host's config may store them);
 * - secret query parameters (they must be part of the url git requests): a
 *   `url.<with>.insteadOf=<without>` rewrite, so git's argv and the mirror's
 *   config hold the url without them. (git still passes the rewritten url to
 *   its git-remote-https child: unavoidable for a secret that is part of the url.)
 * - an ssh password means nothing to git (ssh authenticates its own way): dropped.
 * Config goes through GIT_CONFIG_COUNT/KEY/VALUE, appended after any the host set.
 * @throws TypeError for a url whose decoded credentials contain a newline (git's own rule: they would inject protocol lines)
 */
export function gitCredentials(cloneUrl: string, base: NodeJS.ProcessEnv = process.env): GitCredentials {
  if (!SCHEME_URL_RE.test(cloneUrl)) return { url: cloneUrl, env: {}, secrets: [] };
  let u: URL;
  try {
    u = new URL(cloneUrl);
  } catch {
    // Not a url: git gets it as given and no credential comes with it.
    return { url: cloneUrl, env: {}, secrets: [] };
  }
  const secrets = secretsOf(u);
  const querySecrets = [...u.searchParams].filter(([k]) => SECRET_PARAM.test(k)).map(([, v]) => v);
  if (secrets.length === 0 && querySecrets.length === 0) return { url: cloneUrl, env: {}, secrets: [] };
  const url = withoutCredentials(cloneUrl);
  const config: [string, string][] = [];
  const env: Record<string, string> = {};
  const http = u.protocol === "https:" || u.protocol === "http:";
  if (http && (u.username || u.password)) {
    const username = decode(u.username);
    const password = decode(u.password);
    if (/[\n\r\0]/.test(username + password)) throw new TypeError("credentials in the url contain a newline or NUL");
    env[USERNAME_VAR] = username;
    env[PASSWORD_VAR] = password;
    // An empty value first: it clears the helpers of the host's config, which could store the secret.
    config.push(["credential.helper", ""], [`credential.${u.protocol}//${u.host}.helper`, HELPER]);
  }
  if (querySecrets.length > 0) {
    const withQuery = new URL(cloneUrl);
    withQuery.username = "";
    withQuery.password = "";
    if (u.protocol === "ssh:") withQuery.username = u.username;
    config.push([`url.${withQuery.href}.insteadOf`, url]);
  }
  Object.assign(env, gitConfigEnv(config, base));
  // searchParams decodes: the url (and git's messages) may hold the encoded form too.
  return { url, env, secrets: [...new Set([...secrets, ...querySecrets, ...querySecrets.map(encodeURIComponent)].filter(Boolean))] };
}

/** GIT_CONFIG_COUNT/KEY_n/VALUE_n for `pairs`, after the ones `base` already has. */
export function gitConfigEnv(pairs: [string, string][], base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (pairs.length === 0) return {};
  const start = Number.parseInt(base.GIT_CONFIG_COUNT ?? "0", 10) || 0;
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(start + pairs.length) };
  pairs.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${start + i}`] = k;
    env[`GIT_CONFIG_VALUE_${start + i}`] = v;
  });
  return env;
}

/**
 * The userinfo parts that are secrets: the password; over https also a user
 * name without one (a token as the user name). A user name beside a password
 * (x-access-token, oauth2, git) names nobody's secret, and scrubbing it from
 * git's messages would only garble them.
 */
function secretsOf(u: URL): string[] {
  const parts = u.password || u.protocol === "ssh:" ? [u.password] : [u.username];
  return [...new Set(parts.flatMap((p) => [p, decode(p)]).filter(Boolean))];
}

function hasSecretParam(u: URL): boolean {
  return [...u.searchParams.keys()].some((k) => SECRET_PARAM.test(k));
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // A malformed escape: keep the text as written.
    return s;
  }
}
