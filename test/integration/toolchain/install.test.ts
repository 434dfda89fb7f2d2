/**
 * installToolchain against a real registry (verdaccio, test/harness/registry.ts)
 * holding tiny packages this file publishes: exact versions, no lifecycle
 * script ever run, `before` honoured, one install per spec across calls and
 * processes, named errors that never hang, and a cache bounded in size.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isPermanent } from "../../../shared/fabric/errors.js";
import { PipelineErrorCodes } from "../../../shared/pipeline/errors.js";
import { MARKER, readMarker } from "../../../shared/toolchain/cache.js";
import { installToolchain, type InstallOptions } from "../../../shared/toolchain/install.js";
import { ToolchainInstallError, ToolchainRegistryError } from "../../../shared/toolchain/install-errors.js";
import type { ToolchainSpec } from "../../../shared/toolchain/types.js";
import { killChildren, spawnFixture, spawnNode } from "../../harness/children.js";
import { useTempDir } from "../../harness/files.js";
import { TestRegistry, writeTestPackage } from "../../harness/registry.js";
import { waitFor, within } from "../../harness/wait.js";

const work = useTempDir("farm-toolchain-install-");
const markers = path.join(work, "script-markers");
let registry: TestRegistry;
/** A date after eslint-plugin-farmtest@1.0.0 was published and before 1.1.0 was. */
let between: string;

/** A script that, if run, leaves a file named `name` in `markers`. */
const leaveMarker = (name: string) => `node -e "require('fs').writeFileSync(require('path').join('${markers}', '${name}'), 'ran')"`;
const scripts = (pkg: string) => ({
  preinstall: leaveMarker(`${pkg}-preinstall`),
  install: leaveMarker(`${pkg}-install`),
  postinstall: leaveMarker(`${pkg}-postinstall`),
});

beforeAll(async () => {
  mkdirSync(markers);
  registry = await TestRegistry.start();
  const pkgs = path.join(work, "packages");
  const plugin = (version: string) => ({
    name: "eslint-plugin-farmtest",
    version,
    files: { "index.js": `module.exports = { meta: { name: "eslint-plugin-farmtest", version: "${version}" }, rules: {} };\n` },
  });
  await Promise.all([
    registry.publish(writeTestPackage(pkgs, plugin("1.0.0"))),
    registry.publish(writeTestPackage(pkgs, { name: "farmtest-deep", version: "1.0.0", scripts: scripts("farmtest-deep") })),
    registry.publish(
      writeTestPackage(pkgs, { name: "scripted-pkg", version: "1.0.0", scripts: scripts("scripted-pkg"), dependencies: { "farmtest-deep": "1.0.0" } }),
    ),
  ]);
  await registry.publish(writeTestPackage(pkgs, plugin("1.1.0")));
  const doc = (await (await fetch(`${registry.url}eslint-plugin-farmtest`)).json()) as { time: Record<string, string> };
  const [t0, t1] = [Date.parse(doc.time["1.0.0"]), Date.parse(doc.time["1.1.0"])];
  expect(t1).toBeGreaterThan(t0 + 1);
  between = new Date(Math.floor((t0 + t1) / 2)).toISOString();
}, 60_000);

afterAll(async () => {
  await killChildren();
  await registry?.dispose();
});

let cacheCount = 0;
/** A fresh, empty cache dir per test: no test sees another's installs. */
const freshCache = () => path.join(work, `cache-${++cacheCount}`);

/** A spec as resolve would make it (its id: a hash of packages and before, salted so tests never share one). */
function specOf(packages: Record<string, string>, before?: string, salt = ""): ToolchainSpec {
  const id = createHash("sha256").update(JSON.stringify({ packages, before, salt })).digest("hex").slice(0, 32);
  return { id, configFile: "eslint.config.js", format: "flat", packages, ...(before ? { before } : {}), notes: [] };
}

const opts = (cacheDir: string, more: Partial<InstallOptions> = {}): InstallOptions => ({ cacheDir, registry: registry.url, timeoutMs: 30_000, ...more });

/** Tarballs of `name` the registry served so far, once its log has caught up. */
async function tarballsOf(name: string): Promise<number> {
  await registry.logged();
  return registry.tarballRequests().filter((u) => u.startsWith(`/${name}/-/`)).length;
}

describe("installing", () => {
  test("installs the spec's exact versions, and no lifecycle script of any package runs", async () => {
    // The control: the published scripts do write their marker when run.
    execFileSync("npm", ["run", "postinstall", "--silent"], { cwd: path.join(work, "packages", "scripted-pkg-1.0.0") });
    expect(readdirSync(markers)).toEqual(["scripted-pkg-postinstall"]);
    rmSync(path.join(markers, "scripted-pkg-postinstall"));

    const cacheDir = freshCache();
    const spec = specOf({ "eslint-plugin-farmtest": "1.0.0", "scripted-pkg": "1.0.0" });
    const installed = await installToolchain(spec, opts(cacheDir));

    expect(installed.versions).toEqual({ "eslint-plugin-farmtest": "1.0.0", "scripted-pkg": "1.0.0" });
    expect(installed.dir).toBe(path.join(cacheDir, spec.id));
    expect(installed.spec).toEqual(spec);
    // The dependency with its own scripts is there too: installed, not run.
    expect(existsSync(path.join(installed.dir, "node_modules/farmtest-deep/package.json"))).toBe(true);
    expect(readdirSync(markers)).toEqual([]);
    // Nothing is left behind but the toolchain itself.
    expect(readdirSync(path.join(cacheDir, ".staging"))).toEqual([]);
  });

  test("a range resolves as the registry stood at the spec's `before` date", async () => {
    const cacheDir = freshCache();
    const then = await installToolchain(specOf({ "eslint-plugin-farmtest": "^1.0.0" }, between), opts(cacheDir));
    expect(then.versions).toEqual({ "eslint-plugin-farmtest": "1.0.0" });
    const now = await installToolchain(specOf({ "eslint-plugin-farmtest": "^1.0.0" }), opts(cacheDir));
    expect(now.versions).toEqual({ "eslint-plugin-farmtest": "1.1.0" });
  });

  test("two concurrent calls in one process install the spec once", async () => {
    const cacheDir = freshCache();
    const spec = specOf({ "eslint-plugin-farmtest": "1.0.0" }, undefined, "one-process");
    const before = await tarballsOf("eslint-plugin-farmtest");
    const [a, b] = await Promise.all([installToolchain(spec, opts(cacheDir)), installToolchain(spec, opts(cacheDir))]);
    expect(a.dir).toBe(b.dir);
    expect(a.versions).toEqual({ "eslint-plugin-farmtest": "1.0.0" });
    expect((await tarballsOf("eslint-plugin-farmtest")) - before).toBe(1);
  });

  test("two processes installing one spec at once install it once", async () => {
    const cacheDir = freshCache();
    const spec = specOf({ "eslint-plugin-farmtest": "1.1.0" }, undefined, "two-processes");
    const before = await tarballsOf("eslint-plugin-farmtest");
    const env = { FIXTURE_SPEC: JSON.stringify(spec), FIXTURE_CACHE_DIR: cacheDir, FIXTURE_REGISTRY: registry.url };
    const runs = await Promise.all([spawnFixture("install-toolchain", env).finished, spawnFixture("install-toolchain", env).finished]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const [a, b] = runs.map((r) => JSON.parse(r.stdout) as { dir: string; versions: Record<string, string> });
    expect(a).toEqual(b);
    expect(a.versions).toEqual({ "eslint-plugin-farmtest": "1.1.0" });
    expect((await tarballsOf("eslint-plugin-farmtest")) - before).toBe(1);
  });
});

describe("failing", () => {
  test("a package the registry does not have is a permanent ToolchainInstallError naming it and the registry", async () => {
    const cacheDir = freshCache();
    const spec = specOf({ "eslint-plugin-farmtest": "1.0.0", "farmtest-nobody-published": "1.0.0" });
    const err = await installToolchain(spec, opts(cacheDir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolchainInstallError);
    expect((err as ToolchainInstallError).code).toBe(PipelineErrorCodes.ToolchainInstall);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toContain("farmtest-nobody-published");
    expect((err as Error).message).toContain(registry.url);
    expect(existsSync(path.join(cacheDir, spec.id))).toBe(false);
  });

  test("a version the registry does not have, or none before the spec's date, is a ToolchainInstallError naming it", async () => {
    const missing = await installToolchain(specOf({ "eslint-plugin-farmtest": "2.0.0" }), opts(freshCache())).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ToolchainInstallError);
    expect((missing as Error).message).toContain("eslint-plugin-farmtest@2.0.0");
    const tooEarly = await installToolchain(specOf({ "eslint-plugin-farmtest": "^1.0.0" }, "2001-01-01T00:00:00.000Z"), opts(freshCache())).catch(
      (e: unknown) => e,
    );
    expect(tooEarly).toBeInstanceOf(ToolchainInstallError);
    expect((tooEarly as Error).message).toMatch(/eslint-plugin-farmtest@\^1\.0\.0 published before 2001-01-01/);
  });

  test("a registry that accepts connections and never answers fails with a ToolchainRegistryError, not a hang", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
    try {
      const cacheDir = freshCache();
      const spec = specOf({ "eslint-plugin-farmtest": "1.0.0" }, undefined, "silent");
      const outcome = await within(
        installToolchain(spec, opts(cacheDir, { registry: url, timeoutMs: 1_500 })).catch((e: unknown) => e),
        20_000,
        "still waiting",
      );
      expect(outcome).toBeInstanceOf(ToolchainRegistryError);
      expect((outcome as ToolchainRegistryError).code).toBe(PipelineErrorCodes.ToolchainRegistry);
      expect(isPermanent(outcome)).toBe(false);
      expect((outcome as Error).message).toContain(url);
      expect(sockets.length).toBeGreaterThan(0);
      expect(existsSync(path.join(cacheDir, spec.id))).toBe(false);
      // The aborted install's staging dir goes once arborist has stopped.
      await waitFor("the staging dir to be removed", () => readdirSync(path.join(cacheDir, ".staging")).length === 0, 20_000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test("a version that is a path, a url or a git remote is refused before anything is fetched", async () => {
    for (const version of ["file:../../etc", "git+https://example.com/x.git", "user/repo", "https://example.com/x.tgz"]) {
      const err = await installToolchain(specOf({ "eslint-plugin-farmtest": version }), opts(freshCache())).catch((e: unknown) => e);
      expect(err, version).toBeInstanceOf(ToolchainInstallError);
      expect((err as Error).message).toContain("not a registry version");
    }
    const badId = { ...specOf({ "eslint-plugin-farmtest": "1.0.0" }), id: "../escape" };
    await expect(installToolchain(badId, opts(freshCache()))).rejects.toThrow(ToolchainInstallError);
  });
});

describe("the cache", () => {
  test("what a crashed install or a damaged disk leaves is never taken for a toolchain, and is cleared", async () => {
    const cacheDir = freshCache();
    const spec = specOf({ "eslint-plugin-farmtest": "1.0.0" }, undefined, "crash");
    // What a process killed mid-install leaves: a half tree in staging, under a pid that is gone.
    const dead = spawnNode(["-e", ""]);
    await dead.exited;
    const leftover = path.join(cacheDir, ".staging", `${spec.id}.${dead.pid}.0000`, "tree", "node_modules");
    mkdirSync(leftover, { recursive: true });
    // And a toolchain dir whose marker cannot be read (disk trouble): no toolchain either.
    mkdirSync(path.join(cacheDir, spec.id));
    writeFileSync(path.join(cacheDir, spec.id, MARKER), '{"id": "trunc');

    const installed = await installToolchain(spec, opts(cacheDir));
    expect(installed.versions).toEqual({ "eslint-plugin-farmtest": "1.0.0" });
    expect(existsSync(path.join(installed.dir, MARKER))).toBe(true);
    expect(readdirSync(path.join(cacheDir, ".staging"))).toEqual([]);
  });

  test("eviction keeps the cache under maxCacheBytes, least recently used first, never the toolchain just installed", async () => {
    const cacheDir = freshCache();
    const [a, b, c] = ["a", "b", "c"].map((salt) => specOf({ "eslint-plugin-farmtest": "1.0.0" }, undefined, `evict-${salt}`));
    const unbounded = opts(cacheDir, { inUseMs: 0 });
    const first = await installToolchain(a, unbounded);
    await installToolchain(b, unbounded);
    // a is used again: b is now the least recently used.
    await new Promise((r) => setTimeout(r, 20));
    await installToolchain(a, unbounded);
    const bytes = (await readMarker(first.dir))!.bytes;
    // Room for two toolchains of this size: installing a third evicts one.
    await installToolchain(c, opts(cacheDir, { inUseMs: 0, maxCacheBytes: 2 * bytes + bytes / 2 }));
    const left = readdirSync(cacheDir).filter((n) => !n.startsWith("."));
    expect(left.sort()).toEqual([a.id, c.id].sort());

    // Too small for even one: the one just installed stays all the same.
    await installToolchain(b, opts(cacheDir, { inUseMs: 0, maxCacheBytes: 1 }));
    expect(readdirSync(cacheDir).filter((n) => !n.startsWith("."))).toEqual([b.id]);
  });

  test("a toolchain used within inUseMs is never evicted, even past the bound", async () => {
    const cacheDir = freshCache();
    const [a, b] = ["a", "b"].map((salt) => specOf({ "eslint-plugin-farmtest": "1.0.0" }, undefined, `in-use-${salt}`));
    await installToolchain(a, opts(cacheDir));
    await installToolchain(b, opts(cacheDir, { maxCacheBytes: 1, inUseMs: 60_000 }));
    expect(
      readdirSync(cacheDir)
        .filter((n) => !n.startsWith("."))
        .sort(),
    ).toEqual([a.id, b.id].sort());
  });

  // Last: it stops the registry.
  test("a second call finds the toolchain in the cache without contacting the registry", async () => {
    const cacheDir = freshCache();
    const spec = specOf({ "eslint-plugin-farmtest": "1.0.0", "scripted-pkg": "1.0.0" }, undefined, "cached");
    const first = await installToolchain(spec, opts(cacheDir));
    await registry.stop();
    const second = await installToolchain(spec, opts(cacheDir, { timeoutMs: 2_000 }));
    expect(second).toEqual(first);
  });
});
