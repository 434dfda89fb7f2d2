import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveToolchain } from "../../../shared/toolchain/resolve.js";
import { canonicalJson, toolchainId } from "../../../shared/toolchain/spec.js";
import { gitTree, npmLock } from "../../harness/commit-tree.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo } from "../../harness/git.js";

const root = useTempDir("farm-toolchain-id-");

describe("a toolchain's id", () => {
  it("is one for two commits of different dates whose lockfiles pin the same toolchain", async () => {
    const repo = new TestRepo(path.join(root, "same"), { step: 86_400 });
    const pkg = (mocha: string) => JSON.stringify({ devDependencies: { eslint: "^9.0.0", globals: "^15.0.0", mocha } });
    repo.commit("one", {
      "package.json": pkg("^10.0.0"),
      "eslint.config.js": `const globals = require("globals");\nmodule.exports = [];\n`,
      "package-lock.json": npmLock(3, { eslint: "9.21.0", globals: "15.15.0", mocha: "10.2.0" }),
    });
    const one = repo.shas[0];
    // A day later: another lockfile (v2, mocha bumped), the same pins of the toolchain's packages.
    repo.commit("two", { "package.json": pkg("^11.0.0"), "package-lock.json": npmLock(2, { eslint: "9.21.0", globals: "15.15.0", mocha: "11.0.0" }) });
    const two = repo.shas[1];
    const [a, b] = await Promise.all([resolveToolchain(gitTree(repo.dir, one)), resolveToolchain(gitTree(repo.dir, two))]);
    expect(gitTree(repo.dir, one).date).not.toBe(gitTree(repo.dir, two).date);
    expect(a.packages).toEqual({ eslint: "9.21.0", globals: "15.15.0" });
    expect(b.packages).toEqual(a.packages);
    expect(b.id).toBe(a.id);
  });

  it("is the first 32 hex digits of the sha256 of the canonical JSON of packages and before", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"e":0,"f":1}]},"b":1}');
    // Known value: sha256('{"packages":{"eslint":"9.0.0"}}').
    expect(toolchainId({ eslint: "9.0.0" })).toBe("c166899a968111cf722c3c1f24a3ac29");
    expect(toolchainId({ eslint: "9.0.0", globals: "1.0.0" })).toBe(toolchainId({ globals: "1.0.0", eslint: "9.0.0" }));
    expect(toolchainId({ eslint: "^9" }, "2024-01-01T00:00:00.000Z")).not.toBe(toolchainId({ eslint: "^9" }));
  });
});
