import { describe, expect, it } from "vitest";
import { PermanentError } from "../../../shared/fabric/errors.js";
import { PipelineErrorCodes } from "../../../shared/pipeline/errors.js";
import { ToolchainUnresolvedError } from "../../../shared/toolchain/errors.js";
import { DEFAULT_RESOLVE_LIMITS } from "../../../shared/toolchain/limits.js";
import { resolveToolchain } from "../../../shared/toolchain/resolve.js";
import { memoryTree } from "../../harness/commit-tree.js";

const deps = (names: string[]) => JSON.stringify({ devDependencies: Object.fromEntries([["eslint", "9.0.0"], ...names.map((n) => [n, "1.0.0"])]) });
const has = (notes: string[], re: RegExp) =>
  expect(
    notes.some((n) => re.test(n)),
    notes.join("\n"),
  ).toBe(true);

describe("resolveToolchain on hostile trees", () => {
  it("does not read a config larger than maxFileBytes, and says so", async () => {
    // A helper that is not a lint package by name: only reading the config could name it.
    const big = `require("lint-helper");\n${"//".padEnd(DEFAULT_RESOLVE_LIMITS.maxFileBytes, "x")}\n`;
    const spec = await resolveToolchain(memoryTree({ "package.json": deps(["lint-helper"]), "eslint.config.js": big }));
    expect(spec.packages).toEqual({ eslint: "9.0.0" });
    has(spec.notes, /eslint\.config\.js is larger than 1048576 bytes: not read/);
  });

  it("notes a config, a package.json and an eslintrc that do not parse", async () => {
    const flat = await resolveToolchain(memoryTree({ "package.json": "{ nope", "eslint.config.mjs": "export default [;" }));
    has(flat.notes, /^eslint\.config\.mjs does not parse/);
    has(flat.notes, /^package\.json: invalid JSON/);
    // ESLint without a version anywhere: the newest as of the commit's date.
    expect(flat.packages).toEqual({ eslint: "*" });
    const rc = await resolveToolchain(memoryTree({ "package.json": deps([]), ".eslintrc.yml": "a: [\n" }));
    has(rc.notes, /^\.eslintrc\.yml does not parse/);
    expect(rc.packages).toEqual({ eslint: "9.0.0" });
  });

  it("refuses a YAML config that expands aliases without bound", async () => {
    const laughs = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      ...Array.from({ length: 9 }, (_, i) => `${"bcdefghij"[i]}: &${"bcdefghij"[i]} [${Array(9).fill(`*${"abcdefghi"[i]}`).join(", ")}]`),
    ].join("\n");
    const spec = await resolveToolchain(memoryTree({ "package.json": deps([]), ".eslintrc.yaml": laughs }));
    has(spec.notes, /^\.eslintrc\.yaml does not parse/);
  });

  it("keeps maxPackages of a config that imports 10,000 packages, and a bounded number of notes", async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `pkg-${i}`);
    const config = names.map((n) => `import "${n}";`).join("\n");
    const listed = await resolveToolchain(memoryTree({ "package.json": deps(names), "eslint.config.mjs": config }));
    expect(Object.keys(listed.packages)).toHaveLength(DEFAULT_RESOLVE_LIMITS.maxPackages);
    expect(listed.packages.eslint).toBe("9.0.0");
    has(listed.notes, /more than 256 packages named by the config/);
    const missing = await resolveToolchain(memoryTree({ "package.json": deps([]), "eslint.config.mjs": config }));
    expect(missing.packages).toEqual({ eslint: "9.0.0" });
    expect(missing.notes.length).toBeLessThanOrEqual(DEFAULT_RESOLVE_LIMITS.maxNotes + 1);
    expect(missing.notes.at(-1)).toMatch(/more notes left out$/);
  });

  it("follows a chain of relative imports maxDepth deep and no further", async () => {
    const files: Record<string, string> = { "package.json": deps(Array.from({ length: 100 }, (_, i) => `p${i}`)) };
    files["eslint.config.mjs"] = `import "./c/0.mjs";`;
    for (let i = 0; i < 100; i++) files[`c/${i}.mjs`] = `import "p${i}";\nimport "./${i + 1}.mjs";`;
    const tree = memoryTree(files);
    const spec = await resolveToolchain(tree, { maxDepth: 5 });
    // The config is depth 0; c/0 … c/4 are 1 … 5 imports deep.
    expect(Object.keys(spec.packages).sort()).toEqual(["eslint", "p0", "p1", "p2", "p3", "p4"]);
    has(spec.notes, /^c\/5\.mjs is more than 5 imports deep/);
    expect(tree.reads).not.toContain("c/6.mjs");
  });

  it("parses at most maxFiles files of a config that imports many", async () => {
    const files: Record<string, string> = { "package.json": deps([]) };
    files["eslint.config.cjs"] = Array.from({ length: 200 }, (_, i) => `require("./f${i}.cjs");`).join("\n");
    for (let i = 0; i < 200; i++) files[`f${i}.cjs`] = "module.exports = 1;";
    const tree = memoryTree(files);
    const spec = await resolveToolchain(tree, { maxFiles: 10 });
    expect(tree.reads.filter((p) => p.endsWith(".cjs"))).toHaveLength(10);
    has(spec.notes, /more than 10 files of the config to read/);
  });

  it("ends an import cycle, reading each file once", async () => {
    const tree = memoryTree({
      "package.json": deps(["a-plugin", "b-plugin"]),
      "eslint.config.mjs": `import "./a.mjs";`,
      "a.mjs": `import "a-plugin";\nimport "./b.mjs";\nexport default 1;`,
      "b.mjs": `import "b-plugin";\nimport "./a.mjs";\nimport "./eslint.config.mjs";`,
    });
    const spec = await resolveToolchain(tree);
    expect(spec.packages).toEqual({ eslint: "9.0.0", "a-plugin": "1.0.0", "b-plugin": "1.0.0" });
    expect(tree.reads.filter((p) => p === "a.mjs")).toHaveLength(1);
  });

  it("never reads outside the tree: paths leaving the repository are noted", async () => {
    const tree = memoryTree({
      "package.json": deps([]),
      "eslint.config.cjs": `require("../../etc/passwd");\nrequire("/etc/passwd");\nrequire("./sub/../../x");\nmodule.exports = [];`,
      ".eslintrc.json": "{}",
    });
    const spec = await resolveToolchain(tree);
    expect(spec.packages).toEqual({ eslint: "9.0.0" });
    has(spec.notes, /imports "\.\.\/\.\.\/etc\/passwd", outside the repository/);
    has(spec.notes, /imports "\/etc\/passwd" \(an absolute path\)/);
    has(spec.notes, /imports "\.\/sub\/\.\.\/\.\.\/x", outside the repository/);
    expect(tree.reads.every((p) => tree.paths.includes(p))).toBe(true);
    const rc = await resolveToolchain(memoryTree({ "package.json": deps([]), ".eslintrc.json": JSON.stringify({ extends: ["../../etc/passwd"] }) }));
    has(rc.notes, /extends "\.\.\/\.\.\/etc\/passwd", outside the repository/);
  });

  it("notes loads whose specifier is no literal, and keeps the literal ones", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": deps(["ok-plugin"]),
        "eslint.config.mjs":
          "const n = 'x';\nrequire(n);\nrequire(1);\nrequire();\nawait import(`${n}`);\nawait import('ok' + '-plugin');\nimport 'ok-plugin';",
      }),
    );
    expect(spec.packages).toEqual({ eslint: "9.0.0", "ok-plugin": "1.0.0" });
    has(spec.notes, /loads 5 module\(s\) by a name that is not a literal/);
  });

  it("survives a config nested deeper than the parser's stack", async () => {
    const deep = `export default ${"[".repeat(200_000)}${"]".repeat(200_000)};\nimport "ok-plugin";`;
    const spec = await resolveToolchain(memoryTree({ "package.json": deps(["ok-plugin"]), "eslint.config.mjs": deep }));
    expect(spec.packages).toEqual({ eslint: "9.0.0" });
    has(spec.notes, /^eslint\.config\.mjs does not parse/);
    // Deep but parseable: walked without recursion, its import found.
    const nested = `module.exports = ${"[".repeat(500)}${"]".repeat(500)};\nrequire("ok-plugin");`;
    const ok = await resolveToolchain(memoryTree({ "package.json": deps(["ok-plugin"]), ".eslintrc.js": nested }));
    expect(ok.packages).toEqual({ eslint: "9.0.0", "ok-plugin": "1.0.0" });
  });

  it("throws the named permanent error when ranges need a date the commit does not have", async () => {
    const tree = memoryTree({ "package.json": JSON.stringify({ devDependencies: { eslint: "^9" } }), "eslint.config.js": "" }, "not a date");
    const err = await resolveToolchain(tree).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolchainUnresolvedError);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as ToolchainUnresolvedError).code).toBe(PipelineErrorCodes.ToolchainUnresolved);
    // Pinned versions need no date.
    const pinned = memoryTree({ "package.json": JSON.stringify({ devDependencies: { eslint: "9.1.0" } }), "eslint.config.js": "" }, "not a date");
    expect((await resolveToolchain(pinned)).packages).toEqual({ eslint: "9.1.0" });
  });
});
