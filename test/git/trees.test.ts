import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstParentHistory, firstParentTrees, InvalidInputError, listTree, Mirrors, UnknownShaError, type CommitTree, type TreeEntry } from "../../shared/git.js";
import { removeDir, tempDir, TestRepo } from "./helpers.js";

let tmp: string;
let origin: TestRepo;
let mirror: string;
let head: string;
let root: string;

const latin1Name = Buffer.from([0x73, 0x72, 0x63, 0x2f, 0xe9, 0x2e, 0x6a, 0x73]); // "src/\xe9.js", not UTF-8

beforeAll(async () => {
  tmp = tempDir();
  origin = TestRepo.init(path.join(tmp, "origin"));
  const at = (rel: string) => path.join(origin.dir, rel);
  root = origin.commit("root", {
    "a.js": "a\n",
    "a0.js": "a0\n",
    "B.js": "B\n",
    "é.js": "e\n",
    "\u{1F600}.js": "emoji\n",
    "\uFF5E.js": "fullwidth tilde\n",
    "src/x.js": "x\n",
    "src/y.js": "y\n",
    "with space.js": "s\n",
  });
  origin.commit("edit and add", { "src/x.js": "x2\n", "src/z.js": "z\n", 'q"uote.js': "q\n", "new\nline.js": "n\n" });
  origin.commit("delete", { "src/y.js": null });
  origin.commit("rename", { "src/z.js": null, "lib/z.js": "z\n" });
  chmodSync(at("a0.js"), 0o755);
  origin.commit("mode change");
  rmSync(at("B.js"));
  origin.symlink("a.js", "B.js");
  origin.commit("file becomes a symlink");
  rmSync(at("B.js"));
  writeFileSync(at("B.js"), "B again\n");
  origin.commit("symlink becomes a file");
  rmSync(at("a.js"));
  mkdirSync(at("a"));
  writeFileSync(at("a/b.js"), "a/b\n");
  origin.commit("file becomes a directory");
  rmSync(at("a"), { recursive: true });
  writeFileSync(at("a.js"), "a back\n");
  writeFileSync(Buffer.concat([Buffer.from(`${origin.dir}/`), latin1Name]), "latin1 name\n");
  origin.commit("directory back to a file, a name that is not UTF-8");
  origin.commit("nothing changed");
  origin.git("checkout", "--quiet", "-b", "side");
  origin.commit("side one", { "side.js": "side\n", "src/x.js": "x side\n" });
  origin.commit("side two", { "side.js": "side 2\n" });
  origin.git("checkout", "--quiet", "main");
  origin.commit("main moves on", { "main.js": "m\n" });
  origin.tick();
  origin.git("merge", "--quiet", "--no-ff", "-m", "merge side", "side");
  // No `git add --all` from here: it would drop a gitlink that has no checkout.
  origin.git("update-index", "--add", "--cacheinfo", `160000,${root},vendor/sub`);
  origin.tick();
  origin.git("commit", "--quiet", "-m", "submodule added");
  origin.git("update-index", "--force-remove", "vendor/sub");
  origin.tick();
  origin.git("commit", "--quiet", "-m", "submodule removed");
  head = origin.head();
  mirror = await new Mirrors({ dataDir: path.join(tmp, "data"), allowLocal: true }).ensure(origin.dir, head);
});

afterAll(() => removeDir(tmp));

async function collect(sha: string, n: number): Promise<CommitTree[]> {
  const out: CommitTree[] = [];
  for await (const c of firstParentTrees(mirror, sha, n)) out.push(c);
  return out;
}

const id = (e: TreeEntry) => `${e.path}\0${e.blob}\0${e.mode}`;

describe("firstParentTrees", () => {
  it("yields every first-parent commit oldest first, each with exactly ls-tree's tree and what changed", async () => {
    const history = await firstParentHistory(mirror, head, 100);
    const trees = await collect(head, 100);
    expect(trees.map(({ sha, parents, authorDate, subject }) => ({ sha, parents, authorDate, subject }))).toEqual([...history].reverse());
    expect(trees.map((t) => t.subject)).not.toContain("side one");
    let previous: readonly TreeEntry[] = [];
    for (const t of trees) {
      expect(t.tree, t.subject).toEqual(await listTree(mirror, t.sha));
      const before = new Set(previous.map(id));
      expect(t.changed.map(id), t.subject).toEqual(t.tree.filter((e) => !before.has(id(e))).map(id));
      previous = t.tree;
    }
    expect(trees.find((t) => t.subject === "merge side")!.tree.some((e) => e.path === "side.js")).toBe(true);
    expect(trees.find((t) => t.subject === "submodule added")!.changed).toEqual([]);
    expect(trees.find((t) => t.subject === "nothing changed")!.changed).toEqual([]);
    expect(trees.at(-1)!.tree.some((e) => e.path.startsWith('"'))).toBe(true);
  });

  it("keeps the entries a commit did not change as the same objects", async () => {
    const trees = await collect(head, 100);
    const [before, after] = [trees[0].tree, trees[1].tree];
    const kept = after.filter((e) => !trees[1].changed.includes(e));
    expect(kept.length).toBeGreaterThan(0);
    for (const e of kept) expect(before).toContain(e);
  });

  it("starts from the tree of the oldest commit asked for when the history is cut short", async () => {
    const trees = await collect(head, 3);
    expect(trees).toHaveLength(4);
    expect(trees[0].changed).toEqual(trees[0].tree);
    expect(trees[0].parents).toHaveLength(1);
    for (const t of trees) expect(t.tree).toEqual(await listTree(mirror, t.sha));
  });

  it("refuses an unknown commit, a negative depth and an option for a sha", async () => {
    await expect(collect("f".repeat(40), 3)).rejects.toBeInstanceOf(UnknownShaError);
    await expect(collect(head, -1)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(collect("--all", 1)).rejects.toBeInstanceOf(InvalidInputError);
  });
});
