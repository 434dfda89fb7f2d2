/**
 * The import rules `npm run lint:deps` holds the tree to (.dependency-cruiser.cjs),
 * run by the real dependency-cruiser on small trees made here: each rule refuses
 * what it is for, and the repository itself keeps them.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT } from "../../harness/children.js";
import { useTempDir } from "../../harness/files.js";

const tmp = useTempDir("farm-deps-");
const CRUISE = path.join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");

/** Runs the project's rules on `files` (path → source) in a fresh folder; the violations' rule names. */
function cruise(name: string, files: Record<string, string>): { code: number; rules: string[] } {
  const dir = path.join(tmp, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" } }));
  // The default output, as CI sees it: one "error <rule>: <path>" line a violation, and a failing exit status.
  const r = spawnSync(process.execPath, [CRUISE, "shared", "--config", path.join(ROOT, ".dependency-cruiser.cjs")], { cwd: dir, encoding: "utf8" });
  const rules = [...r.stdout.matchAll(/^\s*error ([\w-]+):/gm)].map((m) => m[1]);
  return { code: r.status ?? -1, rules: [...new Set(rules)].sort() };
}

describe("npm run lint:deps", () => {
  test("refuses a library module that imports the pipeline", () => {
    const r = cruise("library-to-pipeline", {
      "shared/fabric/farm.ts": 'import { subjects } from "../pipeline/names.js";\nexport const s = subjects;\n',
      "shared/pipeline/names.ts": "export const subjects = {};\n",
    });
    expect(r.rules).toEqual(["library-imports-only-library"]);
    expect(r.code).not.toBe(0);
  });

  test("refuses an import cycle, a type-only one too", () => {
    const r = cruise("cycle", {
      "shared/pipeline/a.ts": 'import type { B } from "./b.js";\nexport interface A { b?: B }\n',
      "shared/pipeline/b.ts": 'import type { A } from "./a.js";\nexport interface B { a?: A }\n',
    });
    expect(r.rules).toEqual(["no-cycle"]);
    expect(r.code).not.toBe(0);
  });

  test("takes the pipeline importing the library", () => {
    const r = cruise("pipeline-to-library", {
      "shared/fabric/codec.ts": "export const encode = (v: unknown) => v;\n",
      "shared/pipeline/names.ts": 'import { encode } from "../fabric/codec.js";\nexport const e = encode;\n',
    });
    expect(r).toEqual({ code: 0, rules: [] });
  });
});
