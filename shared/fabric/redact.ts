/**
 * What a secret in a url looks like, for every log line and error message the
 * library writes: `scheme://user:token@` and secret-looking query parameters.
 * The git layer builds on it (shared/git/credentials.ts).
 */

/** Query parameters that carry secrets in urls (GitLab's private_token, signed urls' sig, …). */
export const SECRET_PARAM = /token|secret|password|passwd|pwd|auth|key|sig|credential/i;

/**
 * Hides credentials in free text (messages, git's stderr, log lines):
 * `scheme://user:token@` becomes `scheme://***@`, a secret-looking query
 * parameter's value becomes `***`. For urls that tools store, use
 * withoutCredentials (shared/git/credentials.ts) instead: it leaves no marker.
 */
export function redactUrl(s: string): string {
  return s
    .replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s'"]+@/g, "$1***@")
    .replace(/([?&;])([^=&#\s'"?]+)=([^&#\s'"]*)/g, (all, sep: string, name: string) => (SECRET_PARAM.test(name) ? `${sep}${name}=***` : all));
}
