/**
 * Real JavaScript from the npm registry, for tests that need more of it than a
 * fixture holds: a published package's files, as `npm pack` fetches them
 * (through npm's cache: a second run needs no network).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Unpacks the registry's tarball of `spec` ("name@version": pin the version,
 * so the files are the same on every run) into `dir`, its top folder
 * ("package/") stripped. With `only`, just that folder of the package.
 */
export function unpackNpmPackage(spec: string, dir: string, only?: string): void {
  const work = mkdtempSync(path.join(tmpdir(), "farm-npm-pack-"));
  try {
    const packed = execFileSync("npm", ["pack", spec, "--json", "--silent", "--pack-destination", work], { cwd: work, encoding: "utf8" });
    const [{ filename }] = JSON.parse(packed) as { filename: string }[];
    mkdirSync(dir, { recursive: true });
    const top = only ? 1 + only.split("/").length : 1;
    execFileSync("tar", ["-xzf", path.join(work, filename), "-C", dir, `--strip-components=${top}`, ...(only ? [`package/${only}`] : [])]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
