import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveToolchain } from "../../../shared/toolchain/resolve.js";
import { gitTree, memoryTree, npmLock } from "../../harness/commit-tree.js";
import { git } from "../../harness/git.js";

/** mocha's flat config, as its repository has it: CommonJS, requiring its plugins and `eslint/config`. */
const MOCHA_CONFIG = `'use strict';
const js = require('@eslint/js');
const n = require('eslint-plugin-n');
const globals = require('globals');
const markdown = require('@eslint/markdown');
const { defineConfig } = require('eslint/config');
const path = require('node:path');
const fs = require('fs');

module.exports = defineConfig([
  { ...js.configs.recommended, languageOptions: { globals: globals.node } },
  n.configs['flat/recommended-script'],
  ...markdown.configs.processor,
]);
`;

const MOCHA_DEV_DEPS = {
  "@eslint/js": "^9.19.0",
  "@eslint/markdown": "^6.2.2",
  eslint: "^9.19.0",
  "eslint-plugin-n": "^17.15.1",
  globals: "^15.14.0",
  nyc: "^17.1.0",
};

const MOCHA_PINS = {
  "@eslint/js": "9.21.0",
  "@eslint/markdown": "6.2.2",
  eslint: "9.21.0",
  "eslint-plugin-n": "17.15.1",
  globals: "15.15.0",
  nyc: "17.1.0",
};

function mochaFiles(extra: Record<string, string> = {}): Record<string, string> {
  return {
    "package.json": JSON.stringify({ name: "mocha", devDependencies: MOCHA_DEV_DEPS }),
    "eslint.config.cjs": MOCHA_CONFIG,
    "lib/mocha.js": "module.exports = 1;",
    ...extra,
  };
}

describe("resolveToolchain on a flat config", () => {
  it("pins exactly the packages a mocha-like config requires from its v3 lockfile, with no date", async () => {
    const spec = await resolveToolchain(memoryTree(mochaFiles({ "package-lock.json": npmLock(3, MOCHA_PINS) })));
    expect(spec.configFile).toBe("eslint.config.cjs");
    expect(spec.format).toBe("flat");
    // nyc is a dependency the config never loads: not part of the toolchain.
    expect(spec.packages).toEqual({
      "@eslint/js": "9.21.0",
      "@eslint/markdown": "6.2.2",
      eslint: "9.21.0",
      "eslint-plugin-n": "17.15.1",
      globals: "15.15.0",
    });
    expect(spec.before).toBeUndefined();
    expect(spec.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("uses package.json's ranges as of the commit's date without a lockfile", async () => {
    const spec = await resolveToolchain(memoryTree(mochaFiles(), "2025-02-03T04:05:06+02:00"));
    expect(spec.packages).toEqual({
      "@eslint/js": "^9.19.0",
      "@eslint/markdown": "^6.2.2",
      eslint: "^9.19.0",
      "eslint-plugin-n": "^17.15.1",
      globals: "^15.14.0",
    });
    expect(spec.before).toBe("2025-02-03T02:05:06.000Z");
  });

  it("gives the same id to two trees whose lockfiles pin the same versions, whatever their dates and other pins", async () => {
    const a = await resolveToolchain(memoryTree(mochaFiles({ "package-lock.json": npmLock(3, MOCHA_PINS) }), "2025-01-01T00:00:00Z"));
    const b = await resolveToolchain(
      memoryTree(mochaFiles({ "package-lock.json": npmLock(2, { ...MOCHA_PINS, nyc: "15.0.0", chai: "4.0.0" }) }), "2025-06-01T00:00:00Z"),
    );
    const c = await resolveToolchain(memoryTree(mochaFiles({ "package-lock.json": npmLock(3, { ...MOCHA_PINS, globals: "15.14.0" }) })));
    expect(b.id).toBe(a.id);
    expect(c.id).not.toBe(a.id);
  });

  it("gives ranged toolchains of different dates different ids", async () => {
    const a = await resolveToolchain(memoryTree(mochaFiles(), "2025-01-01T00:00:00Z"));
    const b = await resolveToolchain(memoryTree(mochaFiles(), "2025-01-02T00:00:00Z"));
    expect(b.packages).toEqual(a.packages);
    expect(b.id).not.toBe(a.id);
  });

  it("notes a package the config requires that package.json lacks, and leaves it out", async () => {
    const files = mochaFiles();
    files["eslint.config.cjs"] += "require('eslint-plugin-chai-friendly');\n";
    const spec = await resolveToolchain(memoryTree(files));
    expect(spec.packages).not.toHaveProperty("eslint-plugin-chai-friendly");
    expect(spec.notes).toContain("eslint-plugin-chai-friendly is imported by eslint.config.cjs but not in package.json");
  });

  it("follows an ESM config's relative import to the plugin it imports", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": JSON.stringify({
          type: "module",
          devDependencies: { eslint: "9.30.0", "eslint-plugin-unicorn": "59.0.0", "@stylistic/eslint-plugin": "5.1.0" },
        }),
        "eslint.config.mjs": `import base from "./config/base.mjs";\nexport default [...base];\n`,
        "config/base.mjs": `import unicorn from "eslint-plugin-unicorn";\nimport { rules } from "./rules.js";\nexport default [unicorn.configs.recommended, { rules }];\n`,
        "config/rules.js": `const stylistic = await import("@stylistic/eslint-plugin/rules");\nexport const rules = {};\n`,
      }),
    );
    expect(spec.packages).toEqual({ eslint: "9.30.0", "eslint-plugin-unicorn": "59.0.0", "@stylistic/eslint-plugin": "5.1.0" });
    expect(spec.before).toBeUndefined();
  });

  it("names the eslintrc configs and plugins a FlatCompat config extends", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": JSON.stringify({
          type: "module",
          devDependencies: {
            eslint: "9.9.0",
            "@eslint/eslintrc": "3.1.0",
            "eslint-config-standard": "17.1.0",
            "eslint-plugin-react": "7.35.0",
            "@babel/eslint-parser": "7.25.0",
          },
        }),
        "eslint.config.js": [
          `import { FlatCompat } from "@eslint/eslintrc";`,
          `const compat = new FlatCompat({ baseDirectory: import.meta.dirname });`,
          `export default [...compat.extends("standard"), ...compat.plugins("react"), ...compat.config({ parser: "@babel/eslint-parser" })];`,
        ].join("\n"),
      }),
    );
    expect(spec.packages).toEqual({
      eslint: "9.9.0",
      "@eslint/eslintrc": "3.1.0",
      "eslint-config-standard": "17.1.0",
      "eslint-plugin-react": "7.35.0",
      "@babel/eslint-parser": "7.25.0",
    });
  });

  it("prefers eslint.config.js to an eslintrc beside it, as ESLint 9 does", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": JSON.stringify({ devDependencies: { eslint: "9.0.0" } }),
        "eslint.config.js": "module.exports = [];\n",
        ".eslintrc.json": JSON.stringify({ extends: "standard" }),
      }),
    );
    expect(spec.configFile).toBe("eslint.config.js");
    expect(spec.packages).toEqual({ eslint: "9.0.0" });
    // Read, the eslintrc would have named eslint-config-standard, which package.json lacks.
    expect(spec.notes.join("\n")).not.toMatch(/standard/);
  });

  it("takes package.json's lint packages that the config reaches without naming them", async () => {
    // plugin:prettier/recommended extends "prettier" (eslint-config-prettier): an optional peer npm does not install.
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": JSON.stringify({
          devDependencies: {
            eslint: "8.36.0",
            "eslint-plugin-prettier": "4.2.1",
            "eslint-config-prettier": "8.7.0",
            "@babel/eslint-parser": "7.21.3",
            mocha: "10.0.0",
          },
        }),
        ".eslintrc.json": JSON.stringify({ extends: ["plugin:prettier/recommended"] }),
      }),
    );
    expect(spec.packages).toEqual({ "@babel/eslint-parser": "7.21.3", eslint: "8.36.0", "eslint-config-prettier": "8.7.0", "eslint-plugin-prettier": "4.2.1" });
  });

  it("reads a TypeScript config's imports and adds the loader ESLint needs for it", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": JSON.stringify({ devDependencies: { eslint: "9.30.0", jiti: "2.4.2", "typescript-eslint": "8.35.0" } }),
        "eslint.config.ts": `import type { Linter } from "eslint";\nimport tseslint from "typescript-eslint";\nconst config: Linter.Config[] = [...tseslint.configs.recommended];\nexport default config;\n`,
      }),
    );
    expect(spec.packages).toEqual({ eslint: "9.30.0", jiti: "2.4.2", "typescript-eslint": "8.35.0" });
  });

  it("falls back to data-only linting when the tree has no ESLint at all", async () => {
    const spec = await resolveToolchain(memoryTree({ "package.json": JSON.stringify({ devDependencies: { jshint: "2.13.6" } }), "a.js": "x;" }));
    expect(spec).toMatchObject({ configFile: null, format: null, packages: {} });
    expect(spec.before).toBeUndefined();
    expect(spec.notes.join("\n")).toMatch(/no ESLint config/);
  });

  it("resolves this repository's own HEAD: its eslint.config.mjs imports and the peers it runs, at package-lock.json's versions", async () => {
    const root = path.resolve(import.meta.dirname, "../../..");
    const lock = JSON.parse(git(root, "show", "HEAD:package-lock.json")) as { packages: Record<string, { version: string }> };
    const pinned = (name: string) => lock.packages[`node_modules/${name}`].version;
    const spec = await resolveToolchain(gitTree(root, "HEAD"));
    expect(spec.configFile).toBe("eslint.config.mjs");
    expect(spec.packages).toEqual({
      "@eslint/js": pinned("@eslint/js"),
      eslint: pinned("eslint"),
      globals: pinned("globals"),
      prettier: pinned("prettier"),
      typescript: pinned("typescript"),
      "typescript-eslint": pinned("typescript-eslint"),
    });
    expect(spec.before).toBeUndefined();
  });
});
