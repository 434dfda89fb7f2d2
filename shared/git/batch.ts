/**
 * Streaming reader for `git cat-file --batch` / `--batch-check`: one git
 * process answers many object requests. Output is parsed by byte counts from
 * each header, never as text, so binary blobs come back exactly.
 */
import type { Readable } from "node:stream";
import { FileTooLargeError, GitError } from "./errors.js";
import { DEFAULT_LOCAL_TIMEOUT_MS, killGit, spawnGit } from "./exec.js";

/** One answer, in request order. `type` is null when the object is missing. */
export interface BatchObject {
  /** What was asked for: an object id or `<rev>:<path>`. */
  spec: string;
  /** The resolved object id; null when missing. */
  oid: string | null;
  type: string | null;
  size: number;
  /** The content (with `contents: true`); null otherwise or when missing. */
  content: Buffer | null;
}

export interface BatchOptions {
  /** Read contents (`--batch`) or only type and size (`--batch-check`). */
  contents: boolean;
  /** Refuse objects bigger than this with FileTooLargeError. Default: no limit. */
  maxBytes?: number;
  /** Kill git if the whole batch takes longer. Default 60 s per 1000 requests, at least 60 s. */
  timeoutMs?: number;
}

/**
 * Asks one `git cat-file` process for every spec and yields the answers in
 * order. Breaking out of the loop early kills git.
 * Specs must not contain a newline (the request separator); callers validate.
 * A spec is text, or bytes for a path that is not UTF-8.
 */
export async function* catFileBatch(gitDir: string, specs: readonly (string | Uint8Array)[], opts: BatchOptions): AsyncGenerator<BatchObject> {
  if (specs.length === 0) return;
  const args = [`--git-dir=${gitDir}`, "cat-file", opts.contents ? "--batch" : "--batch-check", "--buffer"];
  const child = spawnGit(args);
  const timeoutMs = opts.timeoutMs ?? Math.max(DEFAULT_LOCAL_TIMEOUT_MS, specs.length * 60);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGit(child);
  }, timeoutMs);
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString("utf8")).slice(-8192);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => resolve(code));
    child.on("error", () => resolve(null));
  });
  child.stdin!.on("error", () => {}); // EPIPE if git dies: reported below via exit code
  // --buffer: git flushes when its buffer fills or stdin closes, so writing
  // everything up front is the fast path; our reads below drain stdout meanwhile.
  // Specs may be bytes (`<rev>:<path>` of a path that is not UTF-8).
  child.stdin!.end(Buffer.concat(specs.flatMap((s) => [typeof s === "string" ? Buffer.from(s, "utf8") : s, NEWLINE])));

  const fail = async (what: string): Promise<never> => {
    killGit(child);
    const code = await exited;
    const reason = timedOut ? `timed out after ${timeoutMs} ms` : `${what} (exit ${code})`;
    throw new GitError(`git cat-file ${reason}: ${stderr.trim() || "(no output)"}`, { args, exitCode: code, stderr });
  };

  const reader = new ByteReader(child.stdout!);
  try {
    for (let i = 0; i < specs.length; i++) {
      const raw = specs[i];
      const spec = typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8");
      const header = await reader.line();
      if (header === null) return await fail(`ended after ${i} of ${specs.length} answers`);
      const obj = parseHeader(spec, header);
      if (obj.type !== null && opts.contents) {
        if (opts.maxBytes !== undefined && obj.size > opts.maxBytes) throw new FileTooLargeError(spec, obj.size, opts.maxBytes);
        obj.content = await reader.bytes(obj.size);
        await reader.bytes(1); // the LF after the content
      }
      yield obj;
    }
    if ((await exited) !== 0) await fail("failed");
  } catch (e) {
    if (e instanceof TruncatedError) return await fail("output was cut short");
    throw e;
  } finally {
    clearTimeout(timer);
    killGit(child);
  }
}

/** `<oid> <type> <size>`, or `<spec> missing` / `<spec> ambiguous` (spec may contain spaces). */
function parseHeader(spec: string, header: string): BatchObject {
  if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
    return { spec, oid: null, type: null, size: 0, content: null };
  }
  const m = /^([0-9a-f]+) ([a-z]+) (\d+)$/.exec(header);
  if (!m) throw new GitError(`unexpected git cat-file header ${JSON.stringify(header.slice(0, 200))} for ${spec}`);
  return { spec, oid: m[1], type: m[2], size: Number(m[3]), content: null };
}

const NEWLINE = Buffer.from("\n");

class TruncatedError extends Error {}

/** Pulls exact byte counts and lines out of a stream of chunks. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  constructor(stream: Readable) {
    this.it = stream[Symbol.asyncIterator]();
  }

  private async next(): Promise<Buffer | null> {
    const r = await this.it.next();
    return r.done ? null : r.value;
  }

  /** The next line without its LF, or null at a clean end of stream. */
  async line(): Promise<string | null> {
    for (;;) {
      const i = this.buf.indexOf(10);
      if (i >= 0) {
        const line = this.buf.subarray(0, i).toString("utf8");
        this.buf = this.buf.subarray(i + 1);
        return line;
      }
      const chunk = await this.next();
      if (chunk === null) {
        if (this.buf.length > 0) throw new TruncatedError();
        return null;
      }
      this.buf = this.buf.length > 0 ? Buffer.concat([this.buf, chunk]) : chunk;
    }
  }

  /** Exactly n bytes, copied so a small blob never pins a large chunk. */
  async bytes(n: number): Promise<Buffer> {
    if (this.buf.length >= n) {
      const out = Buffer.from(this.buf.subarray(0, n));
      this.buf = this.buf.subarray(n);
      return out;
    }
    const parts = [this.buf];
    let have = this.buf.length;
    while (have < n) {
      const chunk = await this.next();
      if (chunk === null) throw new TruncatedError();
      parts.push(chunk);
      have += chunk.length;
    }
    const last = parts[parts.length - 1];
    this.buf = last.subarray(last.length - (have - n));
    return Buffer.concat(parts, n); // truncates to n: one copy of the content
  }
}
