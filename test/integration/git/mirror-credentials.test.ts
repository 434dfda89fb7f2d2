/**
 * Issue 3 at the mirror: a clone url's credentials (https user and password,
 * a secret query parameter) are used for the clone or fetch at hand and left
 * nowhere: not in the mirror's config or any of its files, not in its
 * directory name, not in a GitError. Against a real HTTPS git server (git
 * http-backend behind Basic auth, a throwaway certificate) that only answers
 * with the credentials. Uses only Mirrors' public surface.
 */
import { mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError, Mirrors } from "../../../shared/git/index.js";
import { filesMatching, useTempDir } from "../../harness/files.js";
import { git, trustCertificate, type TestRepo } from "../../harness/git.js";
import { startGitHttpServer, type GitHttpServer } from "../../harness/git-http-server.js";
import { LEAK, SECRET, servedOrigin, SHA, TOKEN, withUser } from "../../harness/credentials.js";

const tmp = useTempDir("farm-mirror-credentials-");
let origin: TestRepo;
let head: string;
/** Served as `<url>/x.git`: a bare copy of origin. */
let projectRoot: string;

beforeAll(() => {
  ({ origin, head, projectRoot } = servedOrigin(tmp));
});

describe("Mirrors with a credentialed https url", () => {
  let server: GitHttpServer;
  let distrust: () => void;

  beforeAll(async () => {
    const certDir = path.join(tmp, "tls");
    mkdirSync(certDir);
    server = await startGitHttpServer({ projectRoot, user: "user", password: SECRET, tls: { certDir } });
    // git trusts the throwaway certificate (every git child inherits the environment).
    distrust = trustCertificate(server.caFile!);
  });

  afterAll(async () => {
    distrust?.();
    await server?.close();
  });

  it("clones and fetches with the credentials and leaves them nowhere in the mirror", async () => {
    const mirrors = new Mirrors({ dataDir: path.join(tmp, "data-https") });
    const dir = await mirrors.ensure(withUser(`${server.url}/x.git`, `user:${SECRET}`), head);
    const basic = Buffer.from(`user:${SECRET}`).toString("base64");
    expect(server.requests.some((r) => r.endsWith(`Basic ${basic}`))).toBe(true);
    expect(git(dir, "config", "--get", "remote.origin.url")).toBe(`${server.url}/x.git`);
    expect(filesMatching(mirrors.root, SECRET)).toEqual([]);
    // A new commit: fetched with this request's credentials; still nothing stored.
    const next = origin.commit("two", { "b.js": "let b = 2;\n" });
    git(origin.dir, "push", "--quiet", path.join(projectRoot, "x.git"), "main");
    await mirrors.ensure(withUser(`${server.url}/x.git/`, `user:${SECRET}`), next);
    expect(mirrors.stats()).toEqual({ clones: 1, fetches: 1 });
    expect(filesMatching(mirrors.root, SECRET)).toEqual([]);
  });

  it("a mirror cloned with a credentialed remote (before this fix) gets it replaced at the next fetch", async () => {
    const mirrors = new Mirrors({ dataDir: path.join(tmp, "data-old") });
    const url = withUser(`${server.url}/x.git`, `user:${SECRET}`);
    const dir = await mirrors.ensure(url, head);
    git(dir, "config", "remote.origin.url", url);
    const next = origin.commit("three", { "c.js": "let c = 3;\n" });
    git(origin.dir, "push", "--quiet", path.join(projectRoot, "x.git"), "main");
    await mirrors.ensure(url, next);
    expect(git(dir, "config", "--get", "remote.origin.url")).toBe(`${server.url}/x.git`);
    expect(filesMatching(mirrors.root, SECRET)).toEqual([]);
  });

  it("a failed clone's error and the mirror directory names carry no secret", async () => {
    const mirrors = new Mirrors({ dataDir: path.join(tmp, "data-unreachable"), networkTimeoutMs: 20_000 });
    const err = await mirrors.ensure(`https://user:${SECRET}@127.0.0.1:1/x.git?access_token=${TOKEN}`, SHA).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    const all = JSON.stringify({ message: (err as GitError).message, stderr: (err as GitError).stderr, args: (err as GitError).args, err });
    expect(all).not.toMatch(LEAK);
    expect((err as GitError).args).toContain("https://127.0.0.1:1/x.git");
    expect(readdirSync(mirrors.root).join(" ")).not.toMatch(new RegExp(`${LEAK.source}|user`));
  });

  it("file:// urls with userinfo are refused (they are no urls), without echoing the secret", async () => {
    const mirrors = new Mirrors({ dataDir: path.join(tmp, "data-file"), allowLocal: true });
    const err = (await mirrors.ensure(`file://user:${SECRET}@localhost${origin.dir}`, head).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/not a valid file:\/\/ url/);
    expect(err.message).not.toContain(SECRET);
  });
});
