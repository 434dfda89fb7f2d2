/**
 * Issue 5: paths are bytes in git. Two files whose names are not UTF-8
 * (`\xff.js`, `\xfe.js`) are two entries with their own names and blobs, not
 * one `\ufffd.js` twice: a name that is UTF-8 stays as is, one that is not
 * gets git's C-quoted form, and a UTF-8 name that starts with `"` is quoted
 * too, so no two byte strings share a name.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { displayPath, listTree, Mirrors, pathBytes, readFileAt } from "../../../shared/git/index.js";
import { useTempDir } from "../../harness/files.js";
import { gitBuffer, TestRepo } from "../../harness/git.js";

const tmp = useTempDir("farm-paths-");
let origin: TestRepo;
let mirror: string;
let head: string;

/** A file name from raw bytes, in `dir`. */
const rawName = (dir: string, ...parts: (string | number[])[]) =>
  Buffer.concat([Buffer.from(`${dir}/`), ...parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p)))]);

beforeAll(async () => {
  origin = new TestRepo(path.join(tmp, "origin"));
  writeFileSync(rawName(origin.dir, [0xff], ".js"), "var ff = 1;\n");
  writeFileSync(rawName(origin.dir, [0xfe], ".js"), "var fe = 2;\n");
  writeFileSync(rawName(origin.dir, "x", [0xc3], '"\\.js'), "var mixed = 3;\n"); // a lone lead byte, a quote, a backslash
  writeFileSync(path.join(origin.dir, '"quoted.js'), "var quoted = 4;\n");
  writeFileSync(path.join(origin.dir, "ünï.js"), "var unicode = 5;\n");
  head = origin.commit("names that are bytes");
  mirror = await new Mirrors({ dataDir: path.join(tmp, "data"), allowLocal: true }).ensure(origin.dir, head);
});

describe("listTree with names that are not UTF-8", () => {
  it("gives each file its own name (git's quoted form when not UTF-8) and its own blob", async () => {
    const entries = await listTree(mirror, head);
    const byPath = new Map(entries.map((e) => [e.path, e.blob]));
    expect([...byPath.keys()].sort()).toEqual(['"\\"quoted.js"', '"\\376.js"', '"\\377.js"', '"x\\303\\"\\\\.js"', "ünï.js"].sort());
    expect(new Set(entries.map((e) => e.blob)).size).toBe(5);
    // The same names and blobs git itself prints (core.quotePath is on by default; it also quotes ü and ï).
    const own = gitBuffer(mirror, "ls-tree", "-r", head).toString("utf8").trim().split("\n");
    const ownBlobs = new Map(own.map((l) => [l.split("\t")[1], l.split(" ")[2].split("\t")[0]]));
    for (const name of ['"\\376.js"', '"\\377.js"', '"\\"quoted.js"', '"x\\303\\"\\\\.js"']) expect(byPath.get(name), name).toBe(ownBlobs.get(name));
  });

  it("readFileAt takes the quoted name and reads that file", async () => {
    expect((await readFileAt(mirror, head, '"\\377.js"'))?.toString()).toBe("var ff = 1;\n");
    expect((await readFileAt(mirror, head, '"\\376.js"'))?.toString()).toBe("var fe = 2;\n");
    expect((await readFileAt(mirror, head, '"\\"quoted.js"'))?.toString()).toBe("var quoted = 4;\n");
    expect((await readFileAt(mirror, head, "ünï.js"))?.toString()).toBe("var unicode = 5;\n");
  });
});

describe("displayPath", () => {
  it("is one-to-one and pathBytes undoes it", () => {
    const samples = [Buffer.from("plain/a.js"), Buffer.from('"q"'), Buffer.from([0x22, 0xff]), Buffer.from([0x5c, 0x6e]), Buffer.from([0x0a])];
    for (let i = 0; i < 2000; i++) samples.push(randomBytes(1 + (i % 12)));
    const names = new Map<string, Buffer>();
    for (const bytes of samples) {
      const name = displayPath(bytes);
      expect(pathBytes(name).equals(bytes), name).toBe(true);
      const seen = names.get(name);
      if (seen) expect(seen.equals(bytes), name).toBe(true);
      names.set(name, bytes);
    }
  });
});
