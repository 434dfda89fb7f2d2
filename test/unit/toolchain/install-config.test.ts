/** The toolchain install's settings come from the environment with their documented defaults. */
import path from "node:path";
import { expect, test } from "vitest";
import { loadConfig } from "../../../shared/runtime/config.js";

test("unset, the toolchain cache is <dataDir>/toolchains, bounded at 5 GiB, and no registry is chosen", () => {
  const cfg = loadConfig({ FARM_DATA_DIR: "/srv/farm" });
  expect(cfg.toolchainCacheDir).toBe(path.join("/srv/farm", "toolchains"));
  expect(cfg.toolchainCacheMaxBytes).toBe(5 * 1024 ** 3);
  expect(cfg.npmRegistry).toBeUndefined();
});

test("FARM_TOOLCHAIN_CACHE_DIR, FARM_TOOLCHAIN_CACHE_MAX_BYTES and FARM_NPM_REGISTRY are read", () => {
  const cfg = loadConfig({
    FARM_TOOLCHAIN_CACHE_DIR: "/var/cache/tc",
    FARM_TOOLCHAIN_CACHE_MAX_BYTES: "1000000",
    FARM_NPM_REGISTRY: "http://npm.internal:4873/",
  });
  expect(cfg).toMatchObject({ toolchainCacheDir: "/var/cache/tc", toolchainCacheMaxBytes: 1_000_000, npmRegistry: "http://npm.internal:4873/" });
});

test("a cache bound that is not a count of bytes is refused, naming the variable", () => {
  expect(() => loadConfig({ FARM_TOOLCHAIN_CACHE_MAX_BYTES: "5G" })).toThrow('FARM_TOOLCHAIN_CACHE_MAX_BYTES must be an integer >= 1, got "5G"');
});
