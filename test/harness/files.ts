/** Temporary directories for tests, and looking through what a test left on disk (a mirror, a data dir) for what must not be there. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

/** A fresh directory under the system's temp dir. */
export function tempDir(prefix = "farm-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A fresh temp dir for the file's tests, made now and removed after them all. */
export function useTempDir(prefix: string): string {
  const dir = tempDir(prefix);
  afterAll(() => removeDir(dir));
  return dir;
}

/** Every path under `dir` whose name or content (read as latin1: any bytes) contains `needle` or matches it. */
export function filesMatching(dir: string, needle: string | RegExp): string[] {
  const test = (text: string) => (typeof needle === "string" ? text.includes(needle) : needle.test(text));
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (test(name)) hits.push(p);
      if (statSync(p).isDirectory()) walk(p);
      else if (test(readFileSync(p).toString("latin1"))) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}
