/** Pieces of the credential tests (issue 3): the secrets, and a repository a git server can serve. */
import path from "node:path";
import { git, TestRepo } from "./git.js";

export const SECRET = "s3cr3t";
export const TOKEN = "t0k3n";
/** Either secret, anywhere. */
export const LEAK = new RegExp(`${SECRET}|${TOKEN}`);
/** A commit id no repository has. */
export const SHA = "0123456789abcdef0123456789abcdef01234567";

/** `https://host/...` with `userinfo@` put in. */
export const withUser = (url: string, userinfo: string) => url.replace("://", `://${userinfo}@`);

/** A repository (`<tmp>/origin`, one commit) and a bare copy of it, `<tmp>/http-root/x.git`, for a git server to serve as `<url>/x.git`. */
export function servedOrigin(tmp: string): { origin: TestRepo; head: string; projectRoot: string } {
  const origin = new TestRepo(path.join(tmp, "origin"));
  const head = origin.commit("one", { "a.js": "let a = 1;\n" });
  const projectRoot = path.join(tmp, "http-root");
  git(tmp, "clone", "--quiet", "--bare", origin.dir, path.join(projectRoot, "x.git"));
  return { origin, head, projectRoot };
}
