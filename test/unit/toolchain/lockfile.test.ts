import { describe, expect, it } from "vitest";
import { resolveToolchain } from "../../../shared/toolchain/resolve.js";
import { memoryTree, npmLock } from "../../harness/commit-tree.js";

const files = (extra: Record<string, string>) => ({
  "package.json": JSON.stringify({ devDependencies: { eslint: "^8.0.0", globals: "^13.0.0" } }),
  "eslint.config.js": `const globals = require("globals");\nmodule.exports = [];\n`,
  ...extra,
});

describe("versions from an npm lockfile", () => {
  it.each([1, 2, 3] as const)("reads the top-level versions of a v%i package-lock.json", async (version) => {
    const spec = await resolveToolchain(memoryTree(files({ "package-lock.json": npmLock(version, { eslint: "8.57.0", globals: "13.24.0" }) })));
    expect(spec.packages).toEqual({ eslint: "8.57.0", globals: "13.24.0" });
    expect(spec.before).toBeUndefined();
  });

  it("reads npm-shrinkwrap.json before package-lock.json, as npm does", async () => {
    const spec = await resolveToolchain(
      memoryTree(
        files({
          "npm-shrinkwrap.json": npmLock(3, { eslint: "8.1.0", globals: "13.1.0" }),
          "package-lock.json": npmLock(3, { eslint: "8.57.0", globals: "13.24.0" }),
        }),
      ),
    );
    expect(spec.packages).toEqual({ eslint: "8.1.0", globals: "13.1.0" });
  });

  it("keeps package.json's range for a package the lockfile links, aliases or takes from git", async () => {
    const lock = JSON.parse(npmLock(3, { eslint: "8.57.0" })) as { packages: Record<string, object> };
    lock.packages["node_modules/globals"] = { version: "git+https://example.invalid/globals.git#abc", dev: true };
    const linked = { ...lock, packages: { ...lock.packages, "node_modules/globals": { resolved: "packages/globals", link: true } } };
    const aliased = { ...lock, packages: { ...lock.packages, "node_modules/globals": { name: "other", version: "1.0.0" } } };
    for (const l of [lock, linked, aliased]) {
      const spec = await resolveToolchain(memoryTree(files({ "package-lock.json": JSON.stringify(l) })));
      expect(spec.packages).toEqual({ eslint: "8.57.0", globals: "^13.0.0" });
      expect(spec.before).toBeDefined();
    }
  });

  it("notes a yarn.lock or pnpm-lock.yaml and resolves the ranges as of the commit's date", async () => {
    const spec = await resolveToolchain(
      memoryTree(files({ "yarn.lock": 'eslint@^8.0.0:\n  version "8.57.0"\n', "pnpm-lock.yaml": "x" }), "2023-07-01T00:00:00Z"),
    );
    expect(spec.packages).toEqual({ eslint: "^8.0.0", globals: "^13.0.0" });
    expect(spec.before).toBe("2023-07-01T00:00:00.000Z");
    expect(spec.notes).toContain("yarn.lock, pnpm-lock.yaml not read: package.json's ranges resolved as of 2023-07-01T00:00:00Z");
  });

  it("pins a package the lockfile has even when package.json does not list it (a hoisted dependency)", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": JSON.stringify({ devDependencies: { "eslint-config-standard": "17.1.0" } }),
        ".eslintrc.json": JSON.stringify({ extends: "standard" }),
        "package-lock.json": npmLock(3, { "eslint-config-standard": "17.1.0", eslint: "8.57.1" }),
      }),
    );
    expect(spec.packages).toEqual({ eslint: "8.57.1", "eslint-config-standard": "17.1.0" });
  });

  it("notes a lockfile that does not parse and falls back to the ranges", async () => {
    const spec = await resolveToolchain(memoryTree(files({ "package-lock.json": '{ "lockfileVersion": 3, ' })));
    expect(spec.packages).toEqual({ eslint: "^8.0.0", globals: "^13.0.0" });
    expect(spec.notes.some((n) => n.startsWith("package-lock.json: invalid JSON"))).toBe(true);
  });
});
