/**
 * A clean install on the oldest Node the project supports prints no engine
 * warning: every locked package declares engines that include package.json's.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import semver from "semver";
import { expect, test } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const read = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), "utf8"));

test("every package in the lockfile runs on the oldest Node the project declares", () => {
  const supported: string = read("package.json").engines.node;
  const oldest = semver.minVersion(supported)!.version;
  const lock = read("package-lock.json") as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
  const refusing = Object.entries(lock.packages)
    .filter(([name, p]) => name && p.engines && !Array.isArray(p.engines) && p.engines.node)
    .filter(([, p]) => !semver.satisfies(oldest, (p.engines as { node: string }).node))
    .map(([name, p]) => `${name.replace(/^.*node_modules\//, "")}@${p.version} wants node ${(p.engines as { node: string }).node}`);
  expect(refusing, `the project supports node ${supported}`).toEqual([]);
});

test("the Node this runs on is one the project declares", () => {
  expect(semver.satisfies(process.version, read("package.json").engines.node)).toBe(true);
});
