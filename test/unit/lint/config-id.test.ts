import { describe, expect, test } from "vitest";
import { canonicalJson, configId, configIdInput, defaultFileConfig, linterVersions, planRepoLint, reportLinterVersions } from "../../../shared/lint/index.js";
import type { FileLintConfig } from "../../../shared/lint/index.js";
import { createRequire } from "node:module";

const base: FileLintConfig = defaultFileConfig("a.js");

describe("config id", () => {
  test("16 hex chars of sha256; the same inputs always give the same id", () => {
    const id = configId(base);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(configId(structuredClone(base))).toBe(id);
    // Key order of rules and options does not matter.
    const a = { ...base, rules: { eqeqeq: 2, "no-console": [1, { allow: ["warn"] }] }, jshint: { undef: true, esversion: 6 } } as FileLintConfig;
    const b = { ...base, jshint: { esversion: 6, undef: true }, rules: { "no-console": [1, { allow: ["warn"] }], eqeqeq: 2 } } as FileLintConfig;
    expect(configId(a)).toBe(configId(b));
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });

  test("a pinned input gives a pinned id (changing the hash scheme must be deliberate)", () => {
    const versions = { eslint: "10.0.0", "@eslint/js": "10.0.0", "typescript-eslint": "8.0.0", typescript: "5.9.3", globals: "17.0.0", jshint: "2.13.6" };
    expect(configId(base, versions)).toBe(configId(base, { ...versions }));
    expect(configIdInput(base, versions)).toEqual({
      engine: 3,
      linters: { eslint: { eslint: "10.0.0", "@eslint/js": "10.0.0" } },
      language: "js",
      jsx: false,
      sourceType: "commonjs",
      rules: {},
      jshint: {},
      globals: { name: "node", version: "17.0.0" },
    });
  });

  test("any change of rules, options, language, sourceType, linters or versions changes it", () => {
    const id = configId(base);
    const variants: FileLintConfig[] = [
      { ...base, rules: { "no-console": 2 } },
      { ...base, rules: { "no-console": [2, { allow: ["warn"] }] } },
      { ...base, sourceType: "module" },
      { ...base, jsx: true },
      { ...base, language: "ts" },
      { ...base, linters: ["eslint", "jshint"] },
      { ...base, linters: ["eslint", "jshint"], jshint: { undef: true } },
    ];
    const ids = variants.map((v) => configId(v));
    expect(new Set([id, ...ids]).size).toBe(variants.length + 1);

    const v = linterVersions();
    expect(configId(base, { ...v, eslint: "10.99.0" })).not.toBe(id);
    expect(configId(base, { ...v, "@eslint/js": "10.99.0" })).not.toBe(id);
    expect(configId(base, { ...v, globals: "99.0.0" })).not.toBe(id);
    const ts = defaultFileConfig("a.ts");
    expect(configId(ts, { ...v, "typescript-eslint": "8.99.0" })).not.toBe(configId(ts));
    expect(configId(ts, { ...v, typescript: "5.99.0" })).not.toBe(configId(ts));
    const withJshint: FileLintConfig = { ...base, linters: ["eslint", "jshint"] };
    expect(configId(withJshint, { ...v, jshint: "2.99.0" })).not.toBe(configId(withJshint));
    // Versions of linters that cannot touch the file stay out: a typescript-eslint upgrade keeps JS results cached.
    expect(configId(base, { ...v, "typescript-eslint": "8.99.0", jshint: "2.99.0" })).toBe(id);
  });

  test("TS-only rule overrides do not change the id of JS files", () => {
    const paths = [".farm.json", "a.js", "b.ts"];
    const plan = (rules: object) => planRepoLint({ paths, contents: { ".farm.json": JSON.stringify({ rules }) } });
    const p1 = plan({ "no-console": "warn" });
    const p2 = plan({ "no-console": "warn", "@typescript-eslint/no-explicit-any": "off" });
    const id = (p: typeof p1, path: string) => p.files.find((f) => f.path === path)!.configId;
    expect(id(p1, "a.js")).toBe(id(p2, "a.js"));
    expect(id(p1, "b.ts")).not.toBe(id(p2, "b.ts"));
    expect(p2.configs.size).toBe(2);
  });

  test("versions are read from the installed packages", () => {
    const require = createRequire(import.meta.url);
    const v = linterVersions();
    expect(v.eslint).toBe((require("eslint/package.json") as { version: string }).version);
    expect(v.jshint).toMatch(/^\d+\.\d+\.\d+/);
    expect(v["typescript-eslint"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(reportLinterVersions(["eslint", "jshint"])).toEqual({
      eslint: v.eslint,
      "typescript-eslint": v["typescript-eslint"],
      jshint: v.jshint,
    });
    expect(reportLinterVersions(["jshint"])).toEqual({ jshint: v.jshint });
  });
});
