/**
 * Issue 3, the pieces: what a url without credentials is, how git gets the
 * credentials (its environment only: a real HTTP git server behind Basic auth
 * proves they still reach the server, and that neither git's argv, nor the
 * clone, nor a credential helper of the host keeps them), errors and logs
 * that never show them. Mirrors end to end: mirror-credentials.test.ts.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitCredentials, GitError, redactUrl, repoIdentity, repoKey, scrubSecrets, validateRepoRef, withoutCredentials } from "../../../shared/git/index.js";
import { runGit } from "../../../shared/git/exec.js";
import { createLogger } from "../../../shared/fabric/logger.js";
import { filesMatching, useTempDir } from "../../harness/files.js";
import { git } from "../../harness/git.js";
import { startGitHttpServer, type GitHttpServer } from "../../harness/git-http-server.js";
import { SECRET, servedOrigin, SHA, TOKEN, withUser } from "../../harness/credentials.js";

const tmp = useTempDir("farm-credentials-");
/** Served as `<url>/x.git`: a bare copy of a repository. */
let projectRoot: string;

beforeAll(() => {
  ({ projectRoot } = servedOrigin(tmp));
});

describe("the url without credentials", () => {
  it("withoutCredentials drops userinfo (ssh keeps its user) and secret query parameters", () => {
    expect(withoutCredentials("https://ghp_token@github.com/o/r.git")).toBe("https://github.com/o/r.git");
    expect(withoutCredentials("https://h/x.git?private_token=t&ref=main")).toBe("https://h/x.git?ref=main");
    expect(withoutCredentials("ssh://git:pw@h/x.git")).toBe("ssh://git@h/x.git");
    expect(withoutCredentials(`https://user:${SECRET}@127.0.0.1:1/x.git?access_token=${TOKEN}`)).toBe("https://127.0.0.1:1/x.git");
  });

  it("repoIdentity keeps a clean url as spelled, and takes any string", () => {
    for (const clean of ["https://GitHub.com/Acme/W.git", "git@github.com:a/b.git", "/srv/a b", "./rel", "file:///srv/x"])
      expect(repoIdentity(clean)).toBe(clean);
    // Not urls (WHATWG refuses userinfo in file urls, validateRepoUrl refuses both): redacted as text.
    expect(repoIdentity(`file://user:${SECRET}@localhost/srv/x`)).toBe("file://***@localhost/srv/x");
    expect(repoIdentity(`https://user:${SECRET}@[bad/x`)).not.toContain(SECRET);
  });

  it("redactUrl hides userinfo and secret parameters in free text; scrubSecrets any known secret", () => {
    const text = `fatal: unable to access 'https://user:${SECRET}@h/x.git?access_token=${TOKEN}&ref=main/': refused`;
    expect(redactUrl(text)).toBe("fatal: unable to access 'https://***@h/x.git?access_token=***&ref=main/': refused");
    expect(scrubSecrets(`password ${SECRET} was wrong`, [SECRET])).toBe("password *** was wrong");
  });

  it("a validated request's repo is the identity; the clone url is for git only and never serialized", () => {
    const url = `https://user:${SECRET}@example.com/o/r.git?access_token=${TOKEN}`;
    const ref = validateRepoRef({ repo: url, sha: SHA });
    expect(ref.repo).toBe("https://example.com/o/r.git");
    expect(ref.cloneUrl).toBe(url);
    expect(JSON.stringify(ref)).not.toMatch(new RegExp(`${SECRET}|${TOKEN}`));
    expect({ ...ref }).not.toHaveProperty("cloneUrl");
    expect(repoKey(ref.repo)).toBe(repoKey(url));
  });

  it("the logger takes credentials out of every line, whoever logged them", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", destination: { write: (s: string) => void lines.push(s) } });
    log.warn(
      { repo: `https://user:${SECRET}@h/x.git`, err: new Error(`no report for https://h/x.git?access_token=${TOKEN}`) },
      `failed: ssh://git:${SECRET}@h/x`,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(new RegExp(`${SECRET}|${TOKEN}`));
    expect(JSON.parse(lines[0]).repo).toBe("https://***@h/x.git");
  });
});

describe("gitCredentials", () => {
  it("hands https credentials over in the environment, the url on the command line without them", () => {
    const c = gitCredentials(`https://user:${SECRET}@example.com/o/r.git?access_token=${TOKEN}`, {});
    expect(c.url).toBe("https://example.com/o/r.git");
    expect(c.env.FARM_GIT_USERNAME).toBe("user");
    expect(c.env.FARM_GIT_PASSWORD).toBe(SECRET);
    // The config that hands them over names the variables, never the values: GIT_CONFIG_VALUE_n of the helper.
    expect(c.env.GIT_CONFIG_KEY_0).toBe("credential.helper");
    expect(c.env.GIT_CONFIG_VALUE_0).toBe("");
    expect(c.env.GIT_CONFIG_KEY_1).toBe("credential.https://example.com.helper");
    expect(c.env.GIT_CONFIG_VALUE_1).not.toContain(SECRET);
    expect(c.env.GIT_CONFIG_KEY_2).toBe(`url.https://example.com/o/r.git?access_token=${TOKEN}.insteadOf`);
    expect(c.env.GIT_CONFIG_COUNT).toBe("3");
    expect(c.secrets).toEqual(expect.arrayContaining([SECRET, TOKEN]));
    // A user name beside a password is no secret (scrubbing "git" from git's messages would garble them)...
    expect(c.secrets).not.toContain("user");
    // ...but one without a password is the token itself.
    expect(gitCredentials("https://ghp_abc123@github.com/o/r.git", {}).secrets).toEqual(["ghp_abc123"]);
  });

  it("appends to the host's GIT_CONFIG_COUNT, decodes percent-encoding, refuses newlines", () => {
    const c = gitCredentials("https://us%40er:p%2Fw@h/x.git", { GIT_CONFIG_COUNT: "2" });
    expect(c.env.GIT_CONFIG_COUNT).toBe("4");
    expect(c.env.GIT_CONFIG_KEY_2).toBe("credential.helper");
    expect([c.env.FARM_GIT_USERNAME, c.env.FARM_GIT_PASSWORD]).toEqual(["us@er", "p/w"]);
    expect(() => gitCredentials("https://u:a%0Ab@h/x.git")).toThrow(/newline/);
  });

  it("has nothing to do for urls without credentials; drops ssh passwords", () => {
    expect(gitCredentials("https://h/x.git")).toEqual({ url: "https://h/x.git", env: {}, secrets: [] });
    expect(gitCredentials("/srv/x")).toEqual({ url: "/srv/x", env: {}, secrets: [] });
    expect(gitCredentials(`ssh://git:${SECRET}@h/x.git`)).toMatchObject({ url: "ssh://git@h/x.git", env: {}, secrets: [SECRET] });
  });
});

describe("credentials over HTTP (git http-backend behind Basic auth)", () => {
  let server: GitHttpServer;
  let globalConfig: string;
  let store: string;

  beforeAll(async () => {
    server = await startGitHttpServer({ projectRoot, user: "user", password: SECRET });
    // A host whose git config stores every credential it sees: ours must not be stored.
    store = path.join(tmp, "credential-store");
    writeFileSync(store, "");
    globalConfig = path.join(tmp, "gitconfig-with-store");
    writeFileSync(globalConfig, `[credential]\n\thelper = store --file ${store}\n`);
  });

  afterAll(() => server?.close());

  const clone = (url: string, into: string) => {
    const c = gitCredentials(url);
    const args = ["-c", "protocol.http.allow=always", "clone", "--mirror", "--quiet", "--", c.url, into];
    return { c, args, run: runGit(args, { env: { ...c.env, GIT_CONFIG_GLOBAL: globalConfig }, secrets: c.secrets }) };
  };

  it("the server gets them (after its 401), git's argv, the mirror and the host's credential store never do", async () => {
    const into = path.join(tmp, "http-mirror");
    const { args, run } = clone(withUser(`${server.url}/x.git`, `user:${SECRET}`), into);
    await run;
    expect(args.join(" ")).not.toContain(SECRET);
    const basic = Buffer.from(`user:${SECRET}`).toString("base64");
    expect(server.requests.some((r) => r.endsWith(`Basic ${basic}`))).toBe(true);
    expect(git(into, "rev-parse", "refs/heads/main")).toBe(git(path.join(projectRoot, "x.git"), "rev-parse", "refs/heads/main"));
    expect(git(into, "config", "--get", "remote.origin.url")).toBe(`${server.url}/x.git`);
    expect(filesMatching(into, SECRET)).toEqual([]);
    expect(readFileSync(store, "utf8")).toBe("");
  });

  it("a token as the user name (no password) reaches the server as Basic '<token>:'", async () => {
    const tokenServer = await startGitHttpServer({ projectRoot, user: `ghp_${SECRET}`, password: "" });
    try {
      const c = gitCredentials(withUser(`${tokenServer.url}/x.git`, `ghp_${SECRET}`));
      const into = path.join(tmp, "http-token-mirror");
      await runGit(["-c", "protocol.http.allow=always", "clone", "--mirror", "--quiet", "--", c.url, into], { env: c.env, secrets: c.secrets });
      expect(tokenServer.requests.some((r) => r.endsWith(`Basic ${Buffer.from(`ghp_${SECRET}:`).toString("base64")}`))).toBe(true);
      expect(filesMatching(into, SECRET)).toEqual([]);
    } finally {
      await tokenServer.close();
    }
  });

  it("wrong credentials: a GitError that names neither the user's secret nor the url's", async () => {
    const { run } = clone(withUser(`${server.url}/x.git?access_token=${TOKEN}`, `user:${SECRET}-wrong`), path.join(tmp, "http-denied"));
    const err = (await run.catch((e: unknown) => e)) as GitError;
    expect(err).toBeInstanceOf(GitError);
    expect(JSON.stringify({ m: err.message, s: err.stderr, a: err.args })).not.toMatch(new RegExp(`${SECRET}|${TOKEN}`));
    expect(readFileSync(store, "utf8")).toBe("");
  });
});
