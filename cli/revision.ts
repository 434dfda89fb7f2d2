/** What the CLI's `<repo>` and `--sha` name: a repository as ingest will see it, and one commit of it. */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { redactUrl, resolveHead } from "../shared/git/index.js";
import { UsageError } from "./errors.js";

const FULL_SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

function isDirectory(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

function isCloneUrl(arg: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) || /^[\w.-]+@[\w.-]+:/.test(arg);
}

/** `farm analyze`: a local directory (made absolute: what ingest will see) or a clone url. */
export function analyzedRepo(arg: string): string {
  if (isDirectory(arg)) return path.resolve(arg);
  if (isCloneUrl(arg)) return arg;
  throw new UsageError(`"${arg}" is neither a directory nor a clone url`);
}

/** `farm report`: a local directory made absolute; anything else as the cluster's ingest saw it. */
export function reportedRepo(arg: string): string {
  return isDirectory(arg) ? path.resolve(arg) : arg;
}

/**
 * The full commit id `rev` names. A local repository resolves any revision git
 * knows (HEAD, a branch, a tag, a short sha; never read as an option); elsewhere
 * only a full commit id can be checked.
 */
export async function commitOf(repo: string, rev: string | undefined, flag: string): Promise<string> {
  if (isDirectory(repo)) return resolveHead(repo, rev ?? "HEAD");
  const sha = (rev ?? "").toLowerCase();
  if (FULL_SHA.test(sha)) return sha;
  const shown = redactUrl(repo);
  throw new UsageError(
    rev === undefined
      ? `${shown} is not a local directory: give the commit with ${flag} (a full 40 or 64 hex id; \`git ls-remote ${shown}\` lists them)`
      : `${flag} "${rev}": a revision name or short sha can be resolved only in a local repository; for ${shown} give the full 40 or 64 hex commit id (\`git ls-remote\` lists them)`,
  );
}
