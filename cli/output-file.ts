/**
 * Writing to a path a user named (`--out`, `--sarif-dir`'s files): the one rule
 * every such write follows. A regular file, or a path that does not exist yet, is
 * written beside itself and renamed into place, so that a reader never sees half
 * a report. Anything else (a device such as /dev/null, a FIFO, a terminal) is
 * opened and written in place: a rename would replace the device itself. A
 * symbolic link is followed and its target treated by the same rule; the link
 * itself is never replaced. `-` is standard output.
 */
import { createWriteStream } from "node:fs";
import { chmod, lstat, readlink, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Writable } from "node:stream";
import { UsageError } from "./errors.js";

/** How a target is written: standard output, replaced by a rename, or opened in place. */
export type OutputTarget = { kind: "stdout" } | { kind: "replace"; path: string; mode?: number } | { kind: "in-place"; path: string };

/** A chain of links longer than this is a loop (Linux gives up at 40 too). */
const MAX_LINKS = 40;

/** Where a chain of symbolic links ends, followed by hand: a dangling link names a file to create. */
async function linkTarget(file: string): Promise<string> {
  let at = file;
  for (let i = 0; i < MAX_LINKS; i++) {
    const st = await lstat(at).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? undefined : Promise.reject(err)));
    if (!st?.isSymbolicLink()) return at;
    at = path.resolve(path.dirname(at), await readlink(at));
  }
  throw new UsageError(`${file}: too many levels of symbolic links`);
}

/** Decides how `file` is written; nothing is changed on disk. */
export async function outputTarget(file: string): Promise<OutputTarget> {
  if (file === "-") return { kind: "stdout" };
  // stat follows every link, /proc's fd links too (`/dev/stdout` into a pipe is a FIFO).
  const st = await stat(file).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? undefined : Promise.reject(err)));
  if (st?.isDirectory()) throw new UsageError(`${file} is a directory: name a file to write, or - for standard output`);
  if (st && !st.isFile()) return { kind: "in-place", path: file };
  // The rename must land on the link's target, never on the link.
  const target = await linkTarget(file);
  return { kind: "replace", path: target, mode: st ? st.mode & 0o7777 : undefined };
}

function endOf(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Opens a stream; an error opening it (ENXIO for a socket, EACCES) fails the write rather than the process. */
function opened(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once("ready", resolve);
    out.once("error", reject);
  });
}

/** Writes through `write` to the target `file` names, by the rule above. */
export async function writeOutput(file: string, write: (out: Writable) => Promise<void>): Promise<void> {
  const target = await outputTarget(file);
  if (target.kind === "stdout") return write(process.stdout);
  if (target.kind === "in-place") {
    const out = createWriteStream(target.path);
    try {
      await opened(out);
      await write(out);
      await endOf(out);
    } catch (err) {
      out.destroy();
      throw err;
    }
    return;
  }
  const partial = `${target.path}.partial-${process.pid}`;
  const out = createWriteStream(partial);
  try {
    await opened(out);
    await write(out);
    await endOf(out);
    // A replaced file keeps its permissions, as a write in place would.
    if (target.mode !== undefined) await chmod(partial, target.mode);
    await rename(partial, target.path);
  } catch (err) {
    out.destroy();
    await rm(partial, { force: true });
    throw err;
  }
}

/** `text` written to `file` by the same rule. */
export function writeOutputFile(file: string, text: string): Promise<void> {
  return writeOutput(file, async (out) => {
    if (!out.write(text)) await new Promise((resolve) => out.once("drain", resolve));
  });
}
