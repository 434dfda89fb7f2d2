import { randomBytes } from "node:crypto";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FileTooLargeError,
  firstParentHistory,
  GitError,
  hasCommit,
  InvalidInputError,
  listTree,
  Mirrors,
  readBlobMap,
  readBlobs,
  readFileAt,
  resolveHead,
  UnknownShaError,
} from "../../../shared/git/index.js";
import { useTempDir } from "../../harness/files.js";
import { gitBuffer, TestRepo } from "../../harness/git.js";

const tmp = useTempDir("farm-objects-");
let origin: TestRepo;
let mirror: string;
const c: Record<string, string> = {};
// Every byte value, then random bytes big enough to span many pipe chunks.
const binary = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300_000)]);

beforeAll(async () => {
  origin = new TestRepo(path.join(tmp, "origin"));
  // main: c1 - c2 ----- c3 - merge
  //               \          /
  // feature:       f1 ---- f2
  c.c1 = origin.commit("first commit", { "README.md": "# widgets\n", "package.json": '{"type":"module"}\n' });
  c.c2 = origin.commit("second commit", { "src/index.js": "export const a = 1;\n" });
  origin.git("checkout", "--quiet", "-b", "feature");
  c.f1 = origin.commit("feature one", { "src/feature.js": "export const f = 1;\n" });
  c.f2 = origin.commit("feature two", { "src/feature.js": "export const f = 2;\n" });
  origin.git("checkout", "--quiet", "main");
  c.c3 = origin.commit("third commit\n\nwith a body", { "src/index.js": "export const a = 3;\n" });
  origin.tick();
  origin.git("merge", "--quiet", "--no-ff", "-m", "Merge branch 'feature'", "feature");
  c.merge = origin.head();
  // A tree with every kind of entry.
  origin.symlink("src/index.js", "link.js");
  c.tree = origin.commit("all kinds of entries", {
    "bin/run.sh": "#!/bin/sh\necho hi\n",
    "assets/blob.bin": binary,
    "empty.txt": "",
    "dir/ü ñ spaced.js": "// unicode path\n",
  });
  origin.git("update-index", "--chmod=+x", "bin/run.sh");
  origin.git("update-index", "--add", "--cacheinfo", `160000,${c.c1},vendor/submodule`);
  origin.tick();
  origin.git("commit", "--quiet", "-m", "executable and submodule");
  c.head = origin.head();
  mirror = await new Mirrors({ dataDir: path.join(tmp, "data"), allowLocal: true }).ensure(origin.dir, c.head);
});

describe("firstParentHistory", () => {
  it("follows first parents only across a merge, newest first", async () => {
    const history = await firstParentHistory(mirror, c.merge, 10);
    expect(history.map((h) => h.sha)).toEqual([c.merge, c.c3, c.c2, c.c1]);
    expect(history[0].parents).toEqual([c.c3, c.f2]);
    expect(history.at(-1)!.parents).toEqual([]);
    expect(history.map((h) => h.subject)).toEqual(["Merge branch 'feature'", "third commit", "second commit", "first commit"]);
  });

  it("returns the commit and at most n ancestors", async () => {
    expect((await firstParentHistory(mirror, c.merge, 0)).map((h) => h.sha)).toEqual([c.merge]);
    expect((await firstParentHistory(mirror, c.merge, 1)).map((h) => h.sha)).toEqual([c.merge, c.c3]);
  });

  it("reports the author date as ISO 8601", async () => {
    const [first] = await firstParentHistory(mirror, c.c1, 0);
    expect(first.authorDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(new Date(first.authorDate).getTime()).toBe((1_700_000_000 + 60) * 1000);
  });

  it("turns a commit the mirror lacks into UnknownShaError", async () => {
    await expect(firstParentHistory(mirror, "f".repeat(40), 3)).rejects.toBeInstanceOf(UnknownShaError);
  });

  it("rejects a bad depth or sha before running git", async () => {
    await expect(firstParentHistory(mirror, c.c1, -1)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(firstParentHistory(mirror, "--all", 1)).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe("listTree", () => {
  it("lists every blob with the id, size and mode git reports, and skips submodules", async () => {
    const tree = await listTree(mirror, c.head);
    const paths = tree.map((e) => e.path).sort();
    expect(paths).toEqual(
      ["README.md", "assets/blob.bin", "bin/run.sh", "dir/ü ñ spaced.js", "empty.txt", "link.js", "package.json", "src/feature.js", "src/index.js"].sort(),
    );
    for (const e of tree) {
      expect(e.blob).toBe(gitBuffer(mirror, "rev-parse", `${c.head}:${e.path}`).toString().trim());
      expect(e.size).toBe(Number(gitBuffer(mirror, "cat-file", "-s", e.blob).toString()));
    }
    const byPath = Object.fromEntries(tree.map((e) => [e.path, e]));
    expect(byPath["bin/run.sh"].mode).toBe("100755");
    expect(byPath["link.js"].mode).toBe("120000");
    expect(byPath["README.md"].mode).toBe("100644");
    expect(byPath["assets/blob.bin"].size).toBe(binary.length);
    expect(byPath["empty.txt"].size).toBe(0);
  });

  it("turns a commit the mirror lacks into UnknownShaError", async () => {
    await expect(listTree(mirror, "e".repeat(40))).rejects.toBeInstanceOf(UnknownShaError);
  });
});

describe("readBlobs", () => {
  it("returns exact bytes for text, binary and empty blobs, in request order", async () => {
    const tree = await listTree(mirror, c.head);
    const ids = tree.map((e) => e.blob);
    const got: [string, Buffer][] = [];
    for await (const entry of readBlobs(mirror, ids)) got.push(entry);
    expect(got.map(([id]) => id)).toEqual(ids);
    for (const [id, content] of got) expect(content.equals(gitBuffer(mirror, "cat-file", "blob", id))).toBe(true);
    const bin = tree.find((e) => e.path === "assets/blob.bin")!;
    expect(got.find(([id]) => id === bin.blob)![1].equals(binary)).toBe(true);
  });

  it("answers repeated ids each time; readBlobMap reads them once", async () => {
    const [a] = (await listTree(mirror, c.c1)).map((e) => e.blob);
    let n = 0;
    for await (const [id] of readBlobs(mirror, [a, a, a.toUpperCase()])) {
      expect(id).toBe(a);
      n++;
    }
    expect(n).toBe(3);
    const map = await readBlobMap(mirror, [a, a]);
    expect([...map.keys()]).toEqual([a]);
  });

  it("stops git when the consumer stops early", async () => {
    const ids = (await listTree(mirror, c.head)).map((e) => e.blob);
    const blobs = readBlobs(mirror, ids);
    await blobs.next();
    await blobs.return(undefined);
    // Nothing to assert beyond not hanging: the generator's finally killed git.
  });

  it("handles an empty request without starting git", async () => {
    expect((await readBlobMap(mirror, [])).size).toBe(0);
  });

  it("fails on ids that are not blobs of the mirror", async () => {
    await expect(readBlobMap(mirror, ["d".repeat(40)])).rejects.toThrow(/missing from mirror/);
    await expect(readBlobMap(mirror, [c.c1])).rejects.toThrow(/is a commit in mirror/);
    await expect(readBlobMap(mirror, ["x\nHEAD"])).rejects.toBeInstanceOf(InvalidInputError);
  });

  it("reports a broken mirror as GitError", async () => {
    await expect(readBlobMap(path.join(tmp, "no-such-mirror"), ["d".repeat(40)])).rejects.toBeInstanceOf(GitError);
  });
});

describe("readFileAt", () => {
  it("reads a file at a commit", async () => {
    expect((await readFileAt(mirror, c.c1, "package.json"))?.toString()).toBe('{"type":"module"}\n');
    expect((await readFileAt(mirror, c.f1, "src/feature.js"))?.toString()).toBe("export const f = 1;\n");
    expect((await readFileAt(mirror, c.head, "dir/ü ñ spaced.js"))?.toString()).toBe("// unicode path\n");
  });

  it("returns null for missing files, directories and submodules", async () => {
    expect(await readFileAt(mirror, c.c1, ".farm.json")).toBeNull();
    expect(await readFileAt(mirror, c.head, "src")).toBeNull();
    expect(await readFileAt(mirror, c.head, "vendor/submodule")).toBeNull();
  });

  it("refuses files over maxBytes and paths outside the tree", async () => {
    await expect(readFileAt(mirror, c.head, "assets/blob.bin")).resolves.toHaveLength(binary.length);
    await expect(readFileAt(mirror, c.head, "assets/blob.bin", { maxBytes: 1000 })).rejects.toBeInstanceOf(FileTooLargeError);
    for (const p of ["../x", "/etc/passwd", "./package.json", "a//b", "", "a\nb"]) {
      await expect(readFileAt(mirror, c.head, p)).rejects.toBeInstanceOf(InvalidInputError);
    }
  });
});

describe("hasCommit and resolveHead", () => {
  it("knows which commits the mirror has", async () => {
    expect(await hasCommit(mirror, c.f2)).toBe(true);
    expect(await hasCommit(mirror, "a".repeat(40))).toBe(false);
    const tree = gitBuffer(mirror, "rev-parse", `${c.c1}^{tree}`).toString().trim();
    expect(await hasCommit(mirror, tree)).toBe(false);
  });

  it("resolves HEAD of a working tree", async () => {
    expect(await resolveHead(origin.dir)).toBe(c.head);
    expect(await resolveHead(origin.dir, "feature")).toBe(c.f2);
    await expect(resolveHead(origin.dir, "nope")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(resolveHead(origin.dir, "--all")).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe("SHA-256 repositories", () => {
  it("clone, history, tree and blobs work with 64-hex ids", async () => {
    const repo = new TestRepo(path.join(tmp, "origin256"), { objectFormat: "sha256" });
    const first = repo.commit("one", { "a.js": "let a = 1;\n" });
    const second = repo.commit("two", { "b.bin": binary.subarray(0, 5000) });
    expect(second).toMatch(/^[0-9a-f]{64}$/);
    const m = await new Mirrors({ dataDir: path.join(tmp, "data256"), allowLocal: true }).ensure(repo.dir, second);
    expect((await firstParentHistory(m, second, 5)).map((h) => h.sha)).toEqual([second, first]);
    const tree = await listTree(m, second);
    expect(tree.map((e) => e.blob.length)).toEqual([64, 64]);
    const blobs = await readBlobMap(
      m,
      tree.map((e) => e.blob),
    );
    expect(blobs.get(tree.find((e) => e.path === "b.bin")!.blob)!.equals(binary.subarray(0, 5000))).toBe(true);
    expect((await readFileAt(m, first, "a.js"))?.toString()).toBe("let a = 1;\n");
  });
});
