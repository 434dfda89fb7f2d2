/**
 * The config-text cache ingest and the splitter share, and the files a
 * history's configs extend as ingest follows them commit by commit.
 */
import { describe, expect, it } from "vitest";
import type { CommitTree } from "../../../shared/git/history.js";
import type { TreeEntry } from "../../../shared/git/objects.js";
import { ConfigTexts, type ReadBlobs } from "../../../shared/lint/config-texts.js";
import { ExtendedFiles } from "../../../shared/lint/extended-files.js";

/** Blobs by id, and every id asked for, read by read to read. */
function store(blobs: Record<string, string>) {
  const asked: string[][] = [];
  const read: ReadBlobs = async function* (ids) {
    asked.push([...ids]);
    for (const id of ids) if (id in blobs) yield [id, new TextEncoder().encode(blobs[id])] as const;
  };
  return { asked, read };
}

describe("ConfigTexts", () => {
  it("reads each blob once, the unknown ones in one read", async () => {
    const { asked, read } = store({ a: "{}", b: '{"x": 1}' });
    const texts = new ConfigTexts();
    expect(await texts.get(["a"], read)).toEqual(new Map([["a", "{}"]]));
    expect(await texts.get(["a", "b"], read)).toEqual(
      new Map([
        ["a", "{}"],
        ["b", '{"x": 1}'],
      ]),
    );
    expect(await texts.get(["b", "a"], read)).toHaveProperty("size", 2);
    expect(asked).toEqual([["a"], ["b"]]);
  });

  it("keeps no text over its byte limit, and no more texts than its count", async () => {
    const { asked, read } = store({ big: "x".repeat(100), a: "1", b: "2" });
    const texts = new ConfigTexts({ max: 1, maxTextBytes: 10 });
    await texts.get(["big"], read);
    await texts.get(["big"], read);
    await texts.get(["a"], read);
    await texts.get(["b"], read);
    await texts.get(["a"], read);
    expect(asked).toEqual([["big"], ["big"], ["a"], ["b"], ["a"]]);
  });

  it("keeps texts up to its total bytes, dropping the least recently used first", async () => {
    const { asked, read } = store({ a: "x".repeat(6), b: "y".repeat(6), c: "z".repeat(6) });
    const texts = new ConfigTexts({ maxBytes: 12 });
    await texts.get(["a"], read);
    await texts.get(["b"], read);
    await texts.get(["a"], read); // a is now the most recent
    await texts.get(["c"], read); // 18 bytes: b goes
    await texts.get(["a", "c"], read);
    await texts.get(["b"], read);
    expect(asked).toEqual([["a"], ["b"], ["c"], ["b"]]);
  });

  it("by path: a blob without text is left out, or reads as the absent text given", async () => {
    const { read } = store({ a: "{}" });
    const entries = [
      { path: "package.json", blob: "a" },
      { path: "lib/package.json", blob: "a" },
      { path: ".jshintrc", blob: "gone" },
    ];
    const texts = new ConfigTexts();
    expect([...(await texts.byPath(entries, read))]).toEqual([
      ["package.json", "{}"],
      ["lib/package.json", "{}"],
    ]);
    expect((await texts.byPath(entries, read, "")).get(".jshintrc")).toBe("");
  });
});

describe("ExtendedFiles", () => {
  const entry = (path: string, blob: string, size = 10): TreeEntry => ({ path, blob, mode: "100644", size });
  const commit = (sha: string, tree: TreeEntry[], changed: TreeEntry[]): CommitTree => ({
    sha,
    parents: [],
    authorDate: "",
    subject: sha,
    tree,
    changed,
    moves: [],
    adds: false,
  });
  const blobs = {
    rc1: JSON.stringify({ extends: "./config/base.json" }),
    base1: JSON.stringify({ extends: ["./mocha.yml", "./gone.json", "./code.js"] }),
    mocha: "env:\n  mocha: true\n",
    base2: JSON.stringify({ rules: {} }),
    lib: "module.exports = 1;\n",
  };

  it("follows relative extends through the first commit's tree, then only where a commit changes a config or a named file", async () => {
    const { asked, read } = store(blobs);
    const files = new ExtendedFiles({ texts: new ConfigTexts(), read, maxFileSize: 1000 });
    const rc = entry(".eslintrc.json", "rc1");
    const base = entry("config/base.json", "base1");
    const mocha = entry("config/mocha.yml", "mocha");
    const code = entry("config/code.js", "lib");
    const first = commit("c1", [rc, base, mocha, code], [rc, base, mocha, code]);
    // Changes no config and nothing named: not looked at.
    const lib = entry("lib/a.js", "lib");
    const second = commit("c2", [rc, base, mocha, code, lib], [lib]);
    // Changes a named file: looked at again; it now extends nothing.
    const base2 = entry("config/base.json", "base2");
    const third = commit("c3", [rc, base2, mocha, code, lib], [base2]);
    expect((await files.of([first, second])).map((e) => `${e.path}@${e.blob}`)).toEqual(["config/base.json@base1", "config/mocha.yml@mocha"]);
    expect((await files.of([third])).map((e) => `${e.path}@${e.blob}`)).toEqual(["config/base.json@base2"]);
    // JavaScript configs are never read; each blob is read once.
    expect(asked.flat().sort()).toEqual(["base1", "base2", "mocha", "rc1"]);
  });

  it("does not read a named file over the size limit", async () => {
    const { asked, read } = store(blobs);
    const files = new ExtendedFiles({ texts: new ConfigTexts(), read, maxFileSize: 100 });
    const rc = entry(".eslintrc.json", "rc1");
    const base = entry("config/base.json", "base1", 101);
    expect(await files.of([commit("c1", [rc, base], [rc, base])])).toEqual([]);
    expect(asked.flat()).toEqual(["rc1"]);
  });
});
