import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isPermanent } from "../../../shared/fabric/errors.js";
import { GitError, InvalidInputError, Mirrors, repoKey, UnknownShaError } from "../../../shared/git/index.js";
import { remoteConfigArgs, runGit } from "../../../shared/git/exec.js";
import { runTsx } from "../../harness/children.js";
import { useTempDir } from "../../harness/files.js";
import { git, TestRepo } from "../../harness/git.js";

const tmp = useTempDir("farm-mirrors-");
let origin: TestRepo;
let first: string;

beforeAll(() => {
  origin = new TestRepo(path.join(tmp, "origin"));
  first = origin.commit("one", { "a.js": "let a = 1;\n" });
});

let n = 0;
const freshMirrors = () => new Mirrors({ dataDir: path.join(tmp, `data-${++n}`), allowLocal: true });

describe("Mirrors.ensure", () => {
  it("clones once into <dataDir>/mirrors/<key>.git, then fetches only for missing commits", async () => {
    const mirrors = freshMirrors();
    const dir = await mirrors.ensure(origin.dir, first);
    expect(dir).toBe(path.join(mirrors.root, `${repoKey(origin.dir)}.git`));
    expect(git(dir, "rev-parse", "--is-bare-repository")).toBe("true");
    expect(mirrors.stats()).toEqual({ clones: 1, fetches: 0 });

    // Known commit: no network at all.
    expect(await mirrors.ensure(origin.dir, first)).toBe(dir);
    expect(mirrors.stats()).toEqual({ clones: 1, fetches: 0 });

    // A new commit on the origin: exactly one fetch, and the branch moved.
    const second = origin.commit("two", { "b.js": "let b = 2;\n" });
    expect(await mirrors.ensure(origin.dir, second)).toBe(dir);
    expect(mirrors.stats()).toEqual({ clones: 1, fetches: 1 });
    expect(git(dir, "rev-parse", "refs/heads/main")).toBe(second);

    // Another spelling of the same repo uses the same mirror.
    expect(await mirrors.ensure(`file://${origin.dir}`, second.toUpperCase())).toBe(dir);
    expect(mirrors.stats()).toEqual({ clones: 1, fetches: 1 });
    // No temporary clones or locks left behind.
    expect(readdirSync(mirrors.root)).toEqual([path.basename(dir)]);
  });

  it("10 concurrent calls for one repo clone once", async () => {
    const mirrors = freshMirrors();
    const dirs = await Promise.all(Array.from({ length: 10 }, () => mirrors.ensure(origin.dir, first)));
    expect(new Set(dirs).size).toBe(1);
    expect(mirrors.stats()).toEqual({ clones: 1, fetches: 0 });

    // ...and 10 concurrent calls for a new commit fetch once.
    const next = origin.commit("concurrent", { "c.js": "let c = 3;\n" });
    await Promise.all(Array.from({ length: 10 }, () => mirrors.ensure(origin.dir, next)));
    expect(mirrors.stats()).toEqual({ clones: 1, fetches: 1 });
  });

  it("two processes calling ensure at once clone once in total", async () => {
    const dataDir = path.join(tmp, "data-shared");
    const head = origin.head();
    const startAt = String(Date.now() + 1500); // both children are up by then
    const child = path.join(import.meta.dirname, "fixtures/ensure-child.ts");
    const outs = await Promise.all([0, 1, 2].map(() => runTsx(child, [dataDir, origin.dir, head, startAt])));
    const results = outs.map((o) => JSON.parse(o) as { path: string; stats: { clones: number; fetches: number } });
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    expect(results.reduce((sum, r) => sum + r.stats.clones, 0)).toBe(1);
    expect(results.reduce((sum, r) => sum + r.stats.fetches, 0)).toBe(0);
  });

  it("fetches a commit that no branch points to by its id", async () => {
    const mirrors = freshMirrors();
    await mirrors.ensure(origin.dir, first);
    origin.git("checkout", "--quiet", "-b", "doomed");
    const orphan = origin.commit("on a branch that gets deleted", { "d.js": "1;\n" });
    origin.git("checkout", "--quiet", "main");
    origin.git("branch", "--quiet", "-D", "doomed");
    expect(await mirrors.ensure(origin.dir, orphan)).toBeTruthy();
    expect(mirrors.stats()).toEqual({ clones: 1, fetches: 2 }); // refs, then by id
  });

  it("an unknown sha is a permanent UnknownShaError", async () => {
    const mirrors = freshMirrors();
    const err = await mirrors.ensure(origin.dir, "0".repeat(40)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownShaError);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(/commit 0{40} is not in .* check that it was pushed/);
    // The clone is kept for the next request.
    expect(mirrors.stats()).toEqual({ clones: 1, fetches: 1 });
    await mirrors.ensure(origin.dir, first);
    expect(mirrors.stats().clones).toBe(1);
  });

  it("a failing clone is a transient GitError and leaves nothing behind", async () => {
    const mirrors = freshMirrors();
    const err = await mirrors.ensure(path.join(tmp, "does-not-exist"), first).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect(isPermanent(err)).toBe(false);
    expect((err as Error).message).toMatch(/git clone failed \(exit 128\)/);
    expect(readdirSync(mirrors.root)).toEqual([]);
  });

  it("replaces a mirror that was damaged outside farm", async () => {
    const mirrors = freshMirrors();
    const dir = await mirrors.ensure(origin.dir, first);
    rmSync(path.join(dir, "objects"), { recursive: true });
    rmSync(path.join(dir, "HEAD"));
    expect(await mirrors.ensure(origin.dir, first)).toBe(dir);
    expect(mirrors.stats()).toEqual({ clones: 2, fetches: 0 });
  });

  it("clones a local path by linking its object files, and copies none of its config or hooks", async () => {
    const source = new TestRepo(path.join(tmp, "linked-origin"));
    const sha = source.commit("one", { "a.js": "let a = 1;\n" });
    git(source.dir, "config", "farm.marker", "from-the-source");
    const hook = path.join(source.dir, ".git", "hooks", "post-checkout");
    writeFileSync(hook, "#!/bin/sh\nexit 0\n", { mode: 0o755 });

    const dir = await freshMirrors().ensure(source.dir, sha);
    const object = path.join("objects", sha.slice(0, 2), sha.slice(2));
    // The same file, not a copy made by upload-pack and index-pack (those leave a pack, no loose object).
    expect(statSync(path.join(dir, object)).ino).toBe(statSync(path.join(source.dir, ".git", object)).ino);
    expect(spawnSync("git", ["--git-dir", dir, "config", "farm.marker"]).status).toBe(1);
    expect(existsSync(path.join(dir, "hooks", "post-checkout"))).toBe(false);
  });

  it("refuses local repos unless allowLocal", async () => {
    const mirrors = new Mirrors({ dataDir: path.join(tmp, "data-strict") });
    await expect(mirrors.ensure(origin.dir, first)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(mirrors.ensure(`file://${origin.dir}`, first)).rejects.toBeInstanceOf(InvalidInputError);
    expect(mirrors.stats()).toEqual({ clones: 0, fetches: 0 });
  });
});

describe("malicious urls", () => {
  const pwned = () => path.join(tmp, "pwned");
  const attacks = () => [
    `--upload-pack=touch ${pwned()}`,
    `--upload-pack=touch%20${pwned()}`,
    `ext::sh -c touch% ${pwned()}`,
    `ext::sh%20-c%20touch%%20${pwned()}`,
    `-oProxyCommand=touch ${pwned()}`,
    `ssh://-oProxyCommand=touch%20${pwned()}/x`,
    `${origin.dir} --upload-pack=touch ${pwned()}`,
  ];

  it("are rejected before git runs and create no file", async () => {
    const mirrors = freshMirrors();
    for (const url of attacks()) {
      await expect(mirrors.ensure(url, first)).rejects.toBeInstanceOf(InvalidInputError);
    }
    expect(mirrors.stats()).toEqual({ clones: 0, fetches: 0 });
    expect(existsSync(pwned())).toBe(false);
  });

  it("git itself refuses ext:: with our protocol settings (second line of defense)", async () => {
    const target = path.join(tmp, "ext-clone");
    const err = await runGit([...remoteConfigArgs(true), "clone", "--mirror", "--", `ext::sh -c touch% ${pwned()}`, target]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).stderr).toMatch(/transport 'ext' not allowed/);
    expect(existsSync(pwned())).toBe(false);
  });

  it("git refuses file transport when local repos are off", async () => {
    const err = await runGit([...remoteConfigArgs(false), "clone", "--mirror", "--", `file://${origin.dir}`, path.join(tmp, "x")]).catch((e: unknown) => e);
    expect((err as GitError).stderr).toMatch(/transport 'file' not allowed/);
  });
});
