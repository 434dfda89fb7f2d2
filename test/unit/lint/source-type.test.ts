import { describe, expect, test } from "vitest";
import { defaultFileConfig, NotLintableError, packageJsonPaths, resolveSourceTypes } from "../../../shared/lint/index.js";

describe("sourceType follows Node's rules", () => {
  const paths = [
    "package.json",
    "index.js",
    "a.mjs",
    "b.cjs",
    "c.mts",
    "d.cts",
    "e.jsx",
    "f.ts",
    "esm/package.json",
    "esm/x.js",
    "esm/deep/y.js",
    "esm/z.cjs",
    "esm/cjs-again/package.json",
    "esm/cjs-again/w.js",
    "esm/cjs-again/v.mjs",
    "broken/package.json",
    "broken/u.js",
    "README.md",
  ];
  const packageJsons = (rootType?: string) =>
    new Map([
      ["package.json", JSON.stringify(rootType ? { name: "r", type: rootType } : { name: "r" })],
      ["esm/package.json", '{"type": "module"}'],
      ["esm/cjs-again/package.json", '{"name": "no-type"}'],
      ["broken/package.json", "{ not json"],
    ]);

  test('root without "type": .js commonjs, extensions decide .mjs/.cjs/.mts/.cts', () => {
    const types = resolveSourceTypes(paths, packageJsons());
    expect(Object.fromEntries(types)).toEqual({
      "index.js": "commonjs",
      "a.mjs": "module",
      "b.cjs": "commonjs",
      "c.mts": "module",
      "d.cts": "commonjs",
      "e.jsx": "commonjs",
      "f.ts": "commonjs",
      "esm/x.js": "module",
      "esm/deep/y.js": "module",
      "esm/z.cjs": "commonjs",
      // The nearest package.json decides even without "type".
      "esm/cjs-again/w.js": "commonjs",
      "esm/cjs-again/v.mjs": "module",
      // An unparsable package.json counts as one without "type".
      "broken/u.js": "commonjs",
    });
  });

  test('root "type": "module": .js/.jsx/.ts modules, .cjs/.cts stay commonjs', () => {
    const types = resolveSourceTypes(paths, packageJsons("module"));
    expect(types.get("index.js")).toBe("module");
    expect(types.get("e.jsx")).toBe("module");
    expect(types.get("f.ts")).toBe("module");
    expect(types.get("b.cjs")).toBe("commonjs");
    expect(types.get("d.cts")).toBe("commonjs");
    expect(types.get("esm/cjs-again/w.js")).toBe("commonjs");
    expect(types.get("broken/u.js")).toBe("commonjs");
    expect(types.has("README.md")).toBe(false);
  });

  test('"type": "commonjs" explicitly, and no package.json at all', () => {
    expect(resolveSourceTypes(["a.js"], [["package.json", '{"type":"commonjs"}']]).get("a.js")).toBe("commonjs");
    expect(resolveSourceTypes(["a/b.js", "c.mjs"], []).get("a/b.js")).toBe("commonjs");
    expect(packageJsonPaths(paths)).toEqual(["package.json", "esm/package.json", "esm/cjs-again/package.json", "broken/package.json"]);
  });

  test("defaultFileConfig (lint.file without a repo)", () => {
    expect(defaultFileConfig("x.js")).toMatchObject({ language: "js", sourceType: "commonjs", linters: ["eslint"] });
    expect(defaultFileConfig("x.js", { packageType: "module" }).sourceType).toBe("module");
    expect(defaultFileConfig("node_modules/x.mts")).toMatchObject({ language: "ts", sourceType: "module" });
    expect(() => defaultFileConfig("x.py")).toThrow(NotLintableError);
  });
});
