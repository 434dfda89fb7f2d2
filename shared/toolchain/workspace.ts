/**
 * A sandbox's work dir: a commit's files written under a fresh temporary
 * directory (paths as git lists them, checked to stay inside), removed after
 * the run whatever happens.
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SandboxRefusedError } from "./sandbox.js";

export interface WorkFile {
  path: string;
  data: string | Uint8Array;
}

/** Runs `fn` with a work dir holding `files` (and empty `placeholders`), under `root` (default the OS's temp dir). */
export async function withWorkDir<T>(
  files: readonly WorkFile[],
  placeholders: readonly string[],
  fn: (dir: string) => Promise<T>,
  root = os.tmpdir(),
): Promise<T> {
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(path.join(root, "farm-work-"));
  try {
    await writeWorkFiles(dir, files, placeholders);
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes `files` (and empty `placeholders`) under the existing directory `dir`. */
export async function writeWorkFiles(dir: string, files: readonly WorkFile[], placeholders: readonly string[]): Promise<void> {
  const made = new Set<string>();
  const write = async (p: string, data: string | Uint8Array) => {
    const target = inside(dir, p);
    const parent = path.dirname(target);
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true });
      made.add(parent);
    }
    await writeFile(target, data);
  };
  const real = new Set(files.map((f) => f.path));
  for (const f of files) await write(f.path, f.data);
  for (const p of placeholders) if (!real.has(p)) await write(p, "");
}

function inside(dir: string, p: string): string {
  const clean = path.posix.normalize(p);
  if (p === "" || p.includes("\0") || path.posix.isAbsolute(p) || clean === ".." || clean.startsWith("../") || clean.split("/").includes(".git")) {
    throw new SandboxRefusedError(`path ${JSON.stringify(p.slice(0, 200))} is not inside the work dir`);
  }
  return path.join(dir, clean);
}
