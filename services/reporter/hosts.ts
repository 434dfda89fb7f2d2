/**
 * Which repositories a git host's API can report on: a clone url of the
 * host, in any of the forms farm accepts (https, ssh, scp-like), names an
 * owner and a repository there; any other url or a local path names none.
 */

/** A repository as the host's API names it. */
export interface HostRepo {
  owner: string;
  repo: string;
}

/** GitHub's names: letters, digits, `-`, `_`, `.` (no path tricks: these go into API paths). */
const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * The owner and repository of `url` on `host` (e.g. "github.com"), or null.
 * With `nested` (GitLab), the owner may be a group path (`group/subgroup`).
 */
export function repoOnHost(url: string, host: string, { nested = false } = {}): HostRepo | null {
  let at: string | undefined;
  let rest: string | undefined;
  const scp = /^[^@/\s]+@([^:/\s]+):(.+)$/.exec(url);
  if (scp) [at, rest] = [scp[1], scp[2]];
  else {
    try {
      const u = new URL(url);
      if (u.protocol !== "https:" && u.protocol !== "ssh:") return null;
      [at, rest] = [u.host, u.pathname];
    } catch {
      return null;
    }
  }
  if (at.toLowerCase() !== host.toLowerCase()) return null;
  const parts = rest
    .replace(/^\/+/, "")
    .replace(/\/+$/, "")
    .replace(/\.git$/, "")
    .split("/");
  if (parts.length < 2 || (!nested && parts.length !== 2) || !parts.every((p) => NAME.test(p) && p !== "." && p !== "..")) return null;
  return { owner: parts.slice(0, -1).join("/"), repo: parts.at(-1)! };
}
