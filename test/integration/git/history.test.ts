import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  findCopies,
  firstParentHistory,
  firstParentTrees,
  InvalidInputError,
  listTree,
  Mirrors,
  UnknownShaError,
  type CommitTree,
  type TreeEntry,
} from "../../../shared/git/index.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo } from "../../harness/git.js";

// Counts the git processes farm starts (the helpers use execFileSync, not spawn).
const spawned = vi.hoisted(() => ({ args: [] as string[][] }));
vi.mock("node:child_process", async (importOriginal) => {
  const mod = await importOriginal<typeof import("node:child_process")>();
  const spawn = ((...a: Parameters<typeof mod.spawn>) => {
    if (a[0] === "git" && Array.isArray(a[1])) spawned.args.push([...(a[1] as string[])]);
    return mod.spawn(...a);
  }) as typeof mod.spawn;
  return { ...mod, spawn, default: { ...mod, spawn } };
});

const tmp = useTempDir("farm-history-");
let origin: TestRepo;
let mirror: string;
let head: string;
const c: Record<string, string> = {};

// "src/\xe9.js" in latin1: not UTF-8, listTree names it quoted.
const latin1Name = Buffer.concat([Buffer.from("src/"), Buffer.from([0xe9]), Buffer.from(".js")]);

beforeAll(async () => {
  origin = new TestRepo(path.join(tmp, "origin"));
  const at = (rel: string) => path.join(origin.dir, rel);
  const commitIndex = (subject: string) => {
    origin.tick();
    origin.git("commit", "--quiet", "--allow-empty", "-m", subject);
    return origin.head();
  };
  // Names whose byte order differs from JS string order: "a.js" < "a/b.js" < "a0.js" by bytes,
  // "B.js" < "a.js", "é.js" (c3 a9) < U+FF5E (ef bd 9e) < U+1F600 (f0 9f …) although UTF-16 puts the emoji before U+FF5E.
  c.root = origin.commit("root", {
    "a.js": "a\n",
    "a0.js": "a0\n",
    "B.js": "B\n",
    "é.js": "e acute\n",
    "\u{1F600}.js": "emoji\n",
    "\uFF5E.js": "fullwidth tilde\n",
    "src/x.js": "x\n",
    "src/y.js": "y\n",
    "with space.js": "space\n",
    "keep/stable.js": "never changes\n",
  });
  c.edit = origin.commit("edit and add", {
    "src/x.js": "x2\n",
    "src/z.js": "z\n",
    'q"uote.js': "quote\n",
    "new\nline.js": "newline\n",
    '"starts with quote.js': "q\n",
  });
  c.del = origin.commit("delete", { "src/y.js": null });
  c.rename = origin.commit("rename", { "src/z.js": null, "lib/z.js": "z\n" });
  // Long enough for git's similarity index to see an edited file as the same one.
  const long = Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join("");
  c.long = origin.commit("a long file", { "doc/long.js": long });
  c.moveEdit = origin.commit("long file renamed and edited", { "doc/long.js": null, "lib/long.js": `${long}one more\n` });
  c.copyEdit = origin.commit("long file copied and edited", { "lib/copy.js": `${long}another\n` });
  // Enough paths coming and going in one commit to rebuild the tree rather than splice it.
  const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`many/${String(i).padStart(2, "0")}.js`, `many ${i}\n`]));
  c.manyAdded = origin.commit("many paths added", { ...many, "a1.js": "a1\n", "Z.js": "Z\n", "src/x.js": "x3\n" });
  c.manyRemoved = origin.commit("many paths removed", { ...Object.fromEntries(Object.keys(many).map((p) => [p, null])), "src/w.js": "w\n", "a1.js": null });
  chmodSync(at("a0.js"), 0o755);
  c.chmod = origin.commit("mode change");
  origin.symlink("a.js", "B.js");
  c.toSymlink = origin.commit("file becomes a symlink");
  c.fromSymlink = origin.commit("symlink becomes a file", { "B.js": "B again\n" });
  c.toDir = origin.commit("file a.js replaced by dir a/", { "a.js": null, "a/b.js": "a/b\n" });
  // The same at one name: file `a` then directory `a` holding b.js, which sorts between "a.js" and "a0.js".
  c.fileA = origin.commit("directory a/ becomes file a", { a: "plain a\n", "a.js": "a.js back\n" });
  c.dirA = origin.commit("file a becomes directory a/", { "a/b.js": "a/b again\n" });
  origin.write({ a: "plain a again\n" });
  writeFileSync(Buffer.concat([Buffer.from(`${origin.dir}/`), latin1Name]), "latin1 name\n");
  c.latin1 = origin.commit("directory a/ back to file a; a name that is not UTF-8");
  c.empty = origin.commit("nothing changed");
  origin.git("checkout", "--quiet", "-b", "side");
  c.side1 = origin.commit("side one", { "side.js": "side\n", "src/x.js": "x side\n" });
  c.side2 = origin.commit("side two", { "side.js": "side 2\n", "é.js": "e acute on side\n" });
  origin.git("checkout", "--quiet", "main");
  c.main = origin.commit("main moves on", { "main.js": "main\n" });
  origin.tick();
  origin.git("merge", "--quiet", "--no-ff", "-m", "merge side", "side");
  c.merge = origin.head();
  c.side3 = (() => {
    origin.git("checkout", "--quiet", "side");
    const s = origin.commit("side three", { "side.js": "side 3\n" });
    origin.git("checkout", "--quiet", "main");
    return s;
  })();
  origin.tick();
  // Its first-parent diff is empty: "ours" keeps main's tree.
  origin.git("merge", "--quiet", "--no-ff", "-s", "ours", "-m", "merge side, keeping ours", "side");
  c.oursMerge = origin.head();
  // From here no `git add --all`: it would drop a gitlink that has no checkout.
  origin.git("update-index", "--add", "--cacheinfo", `160000,${c.root},vendor/sub`);
  c.gitlinkAdd = commitIndex("submodule added");
  origin.git("rm", "--quiet", "--cached", "with space.js");
  origin.git("update-index", "--add", "--cacheinfo", `160000,${c.root},with space.js`);
  c.fileToGitlink = commitIndex("a file becomes a submodule");
  origin.git("update-index", "--force-remove", "with space.js");
  origin.git("update-index", "--add", "--cacheinfo", `100644,${origin.git("rev-parse", `${c.root}:with space.js`)},with space.js`);
  c.gitlinkToFile = commitIndex("the submodule becomes a file again");
  origin.git("update-index", "--force-remove", "vendor/sub");
  c.gitlinkRemove = commitIndex("submodule removed");
  head = c.gitlinkRemove;
  mirror = await new Mirrors({ dataDir: path.join(tmp, "data"), allowLocal: true }).ensure(origin.dir, head);
});

async function collect(sha: string, n: number): Promise<CommitTree[]> {
  const out: CommitTree[] = [];
  for await (const t of firstParentTrees(mirror, sha, n)) out.push(t);
  return out;
}

const key = (e: TreeEntry) => `${e.blob} ${e.mode}`;

/** Entries of `tree` whose (path, blob, mode) is not in `prev`. */
function expectedChanged(prev: readonly TreeEntry[], tree: readonly TreeEntry[]): TreeEntry[] {
  const before = new Map(prev.map((e) => [e.path, key(e)]));
  return tree.filter((e) => before.get(e.path) !== key(e));
}

const info = (t: { sha: string; parents: string[]; authorDate: string; subject: string }) => ({
  sha: t.sha,
  parents: t.parents,
  authorDate: t.authorDate,
  subject: t.subject,
});

describe("firstParentTrees", () => {
  it("yields exactly listTree's tree for every commit of the whole history, oldest first", async () => {
    const all = await collect(head, 1000);
    expect(all.map(info)).toEqual((await firstParentHistory(mirror, head, 1000)).reverse().map(info));
    expect(all[0].sha).toBe(c.root);
    for (const t of all) expect(t.tree, `tree of "${t.subject}"`).toEqual(await listTree(mirror, t.sha));
  });

  it("lists as changed exactly the entries that differ from the previous tree (the whole tree first)", async () => {
    const all = await collect(head, 1000);
    expect(all[0].changed).toEqual(all[0].tree);
    for (let i = 1; i < all.length; i++) {
      expect(all[i].changed, `changed of "${all[i].subject}"`).toEqual(expectedChanged(all[i - 1].tree, all[i].tree));
    }
    const bySubject = new Map(all.map((t) => [t.subject, t]));
    expect(bySubject.get("nothing changed")!.changed).toEqual([]);
    expect(bySubject.get("merge side, keeping ours")!.changed).toEqual([]);
    expect(bySubject.get("mode change")!.changed.map((e) => [e.path, e.mode])).toEqual([["a0.js", "100755"]]);
    expect(bySubject.get("file becomes a symlink")!.changed.map((e) => [e.path, e.mode, e.size])).toEqual([["B.js", "120000", 4]]);
    expect(bySubject.get("the submodule becomes a file again")!.changed.map((e) => e.path)).toEqual(["with space.js"]);
  });

  it("keeps each entry the commit did not touch as the same object, in a new array per commit", async () => {
    const all = await collect(head, 1000);
    for (let i = 1; i < all.length; i++) {
      expect(all[i].tree).not.toBe(all[i - 1].tree);
      const before = new Map(all[i - 1].tree.map((e) => [e.path, e]));
      const changed = new Set(all[i].changed);
      for (const e of all[i].tree) {
        if (changed.has(e)) expect(before.get(e.path)).not.toBe(e);
        else expect(before.get(e.path), `${e.path} in "${all[i].subject}"`).toBe(e);
      }
    }
    const stable = all.map((t) => t.tree.find((e) => e.path === "keep/stable.js"));
    expect(new Set(stable).size).toBe(1);
  });

  it("gives a merge the merge commit's own tree and skips the side branch's commits", async () => {
    const all = await collect(head, 1000);
    const shas = all.map((t) => t.sha);
    for (const s of [c.side1, c.side2, c.side3]) expect(shas).not.toContain(s);
    const merge = all.find((t) => t.sha === c.merge)!;
    expect(merge.parents).toEqual([c.main, c.side2]);
    expect(merge.tree).toEqual(await listTree(mirror, c.merge));
    // Against the first parent: the side branch's work arrives in the merge.
    expect(merge.changed.map((e) => e.path).sort()).toEqual(["side.js", "src/x.js", "é.js"].sort());
  });

  it("sorts by path bytes, not by JS string order, and names undecodable paths as listTree does", async () => {
    const all = await collect(head, 1000);
    const latin1 = all.find((t) => t.sha === c.latin1)!;
    const paths = latin1.tree.map((e) => e.path);
    expect(paths).toContain('"src/\\351.js"');
    expect(paths).toContain('"\\"starts with quote.js"');
    expect(paths).toContain("new\nline.js");
    expect(paths.indexOf("B.js")).toBeLessThan(paths.indexOf("a"));
    expect(paths.indexOf("\uFF5E.js")).toBeLessThan(paths.indexOf("\u{1F600}.js"));
    const dir = all.find((t) => t.sha === c.dirA)!.tree.map((e) => e.path);
    expect(dir.filter((p) => p.startsWith("a"))).toEqual(["a.js", "a/b.js", "a0.js"]);
    expect(
      all
        .find((t) => t.sha === c.toDir)!
        .tree.map((e) => e.path)
        .filter((p) => p.startsWith("a")),
    ).toEqual(["a/b.js", "a0.js"]);
  });

  it("leaves submodules out, as listTree does, when one is added, replaces a file, or goes", async () => {
    const all = await collect(head, 1000);
    const tree = (sha: string) => all.find((t) => t.sha === sha)!.tree.map((e) => e.path);
    expect(tree(c.gitlinkAdd)).not.toContain("vendor/sub");
    expect(tree(c.fileToGitlink)).not.toContain("with space.js");
    expect(tree(c.gitlinkToFile)).toContain("with space.js");
    expect(tree(c.gitlinkRemove)).toEqual(tree(c.gitlinkToFile));
  });

  it("starts from a commit that is not the root when n is smaller than the history", async () => {
    const full = (await firstParentHistory(mirror, head, 1000)).length;
    for (const n of [0, 1, 5, full - 2]) {
      const part = await collect(head, n);
      expect(part.map(info)).toEqual((await firstParentHistory(mirror, head, n)).reverse().map(info));
      expect(part[0].parents).not.toEqual([]);
      expect(part[0].changed).toEqual(part[0].tree);
      for (const t of part) expect(t.tree).toEqual(await listTree(mirror, t.sha));
    }
    // An older starting point too: the merge and everything before it.
    const upToMerge = await collect(c.merge, 4);
    expect(upToMerge.map((t) => t.sha).at(-1)).toBe(c.merge);
    for (const t of upToMerge) expect(t.tree).toEqual(await listTree(mirror, t.sha));
  });

  it("runs one git log, one ls-tree and one cat-file --batch-check for the whole history", async () => {
    spawned.args.length = 0;
    const all = await collect(head, 1000);
    expect(all.length).toBeGreaterThan(15);
    const commands = spawned.args.map((a) => a.find((x) => !x.startsWith("-")));
    expect(commands.sort()).toEqual(["cat-file", "log", "ls-tree"]);
    expect(spawned.args.find((a) => a.includes("cat-file"))).toContain("--batch-check");
  });

  it("runs no cat-file for a single commit", async () => {
    spawned.args.length = 0;
    const [only, ...rest] = await collect(head, 0);
    expect(rest).toEqual([]);
    expect(only.sha).toBe(head);
    expect(spawned.args.map((a) => a.find((x) => !x.startsWith("-"))).sort()).toEqual(["log", "ls-tree"]);
  });

  it("stops cleanly when the consumer breaks after the first commit", async () => {
    let seen = 0;
    for await (const t of firstParentTrees(mirror, head, 1000)) {
      expect(t.sha).toBe(c.root);
      seen++;
      break;
    }
    expect(seen).toBe(1);
    // The generator is still usable afresh.
    expect((await collect(head, 2)).length).toBe(3);
  });

  it("turns a commit the mirror lacks into UnknownShaError", async () => {
    await expect(collect("f".repeat(40), 3)).rejects.toBeInstanceOf(UnknownShaError);
  });

  it("rejects a bad depth or sha before running git", async () => {
    spawned.args.length = 0;
    await expect(collect(head, -1)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(collect(head, 1.5)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(collect("--all", 1)).rejects.toBeInstanceOf(InvalidInputError);
    expect(spawned.args).toEqual([]);
  });
});

describe("renames and copies", () => {
  it("names the renames git sees (-M), exact or edited, and which commits add paths", async () => {
    const bySha = new Map((await collect(head, 1000)).map((t) => [t.sha, t]));
    expect(bySha.get(c.rename)!.moves).toEqual([{ from: "src/z.js", to: "lib/z.js", exact: true }]);
    expect(bySha.get(c.moveEdit)!.moves).toEqual([{ from: "doc/long.js", to: "lib/long.js" }]);
    expect(bySha.get(c.rename)!.adds).toBe(false);
    expect(bySha.get(c.copyEdit)!.adds).toBe(true);
    expect(bySha.get(c.copyEdit)!.moves).toEqual([]);
    expect(bySha.get(c.copyEdit)!.tree.map((e) => e.path)).toEqual((await listTree(mirror, c.copyEdit)).map((e) => e.path));
  });

  it("finds a copy of a file the commit did not touch (-C -C), and nothing where there is none", async () => {
    const copies = await findCopies(mirror, [c.copyEdit, c.del]);
    expect([...copies]).toEqual([[c.copyEdit, [{ from: "lib/long.js", to: "lib/copy.js", copy: true }]]]);
    expect((await findCopies(mirror, [])).size).toBe(0);
    await expect(findCopies(mirror, ["--all"])).rejects.toBeInstanceOf(InvalidInputError);
  });
});
