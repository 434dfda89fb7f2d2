/**
 * The pipeline suite's oracle: ESLint run directly on a commit's checkout,
 * configured from farm's documented default linting (not from the engine),
 * to hold each report against. The pipeline itself: test/harness/pipeline.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import js from "@eslint/js";
import { ESLint, type Linter } from "eslint";
import globals from "globals";
import tseslint from "typescript-eslint";
import type { Report } from "../../../shared/pipeline/report.js";

// ---- the oracle: ESLint run directly on a checkout ------------------------------------

const ALL = ["**/*.js", "**/*.mjs", "**/*.cjs", "**/*.jsx", "**/*.ts", "**/*.mts", "**/*.cts", "**/*.tsx"];
const TS = ["**/*.ts", "**/*.mts", "**/*.cts", "**/*.tsx"];
const EXT = /\.(?:[cm]?[jt]s|[jt]sx)$/i;

export interface OracleMessage {
  ruleId: string | null;
  severity: number;
  line: number;
  column: number;
  message: string;
}

/**
 * farm's documented default linting, written from its description, not from the
 * engine: recommended + latest syntax + Node globals; sourceType by Node's
 * rules (.mjs/.mts module, .cjs/.cts commonjs, others per the nearest
 * package.json "type"); typescript-eslint recommended for TypeScript files.
 */
function defaultFlatConfig(moduleDirs: string[], commonjsDirs: string[]): Linter.Config[] {
  const under = (dirs: string[], exts: string[]) => dirs.flatMap((d) => exts.map((e) => (d ? `${d}/**/*${e}` : `**/*${e}`)));
  const plain = [".js", ".jsx", ".ts", ".tsx"];
  const blocks: Linter.Config[] = [
    { ...js.configs.recommended, files: ALL },
    { files: ALL, languageOptions: { ecmaVersion: "latest", globals: globals.node } },
  ];
  // Deeper package.json files come later, so the nearest one wins.
  const dirs = [...moduleDirs.map((d) => ({ d, t: "module" as const })), ...commonjsDirs.map((d) => ({ d, t: "commonjs" as const }))].sort(
    (a, b) => (a.d === "" ? 0 : a.d.split("/").length) - (b.d === "" ? 0 : b.d.split("/").length),
  );
  blocks.push({ files: under([""], plain), languageOptions: { sourceType: "commonjs" } });
  for (const { d, t } of dirs) blocks.push({ files: under([d], plain), languageOptions: { sourceType: t } });
  blocks.push({ files: ["**/*.mjs", "**/*.mts"], languageOptions: { sourceType: "module" } });
  blocks.push({ files: ["**/*.cjs", "**/*.cts"], languageOptions: { sourceType: "commonjs" } });
  blocks.push(...(tseslint.configs.recommended as Linter.Config[]).map((c) => ({ ...c, files: TS })));
  return blocks;
}

function walk(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const VENDORED = /(^|\/)(node_modules|bower_components|vendor|vendors|third_party|jspm_packages)\//;

/**
 * Which files issue 3's rules say get linted: by extension; not vendored, not
 * minified (by name, or by content: long average lines), not over the size
 * cap (512 KiB by default), not binary (a NUL in the first 8 KiB).
 */
export function expectedLintedFiles(checkout: string, maxFileSize = 512 * 1024): string[] {
  return walk(checkout)
    .filter((p) => EXT.test(p) && !VENDORED.test(p) && !/[.-]min\.[cm]?js$/.test(p))
    .filter((p) => {
      const data = readFileSync(path.join(checkout, p));
      if (data.length > maxFileSize || data.subarray(0, 8192).includes(0)) return false;
      const text = data.toString("utf8");
      return !(text.length >= 4096 && text.length / text.split("\n").length > 500);
    })
    .sort();
}

/** ESLint's own `lintFiles` on a checkout: path → messages, sorted. */
export async function eslintOracle(checkout: string): Promise<Map<string, OracleMessage[]>> {
  const files = expectedLintedFiles(checkout);
  const pkgs = walk(checkout).filter((p) => path.posix.basename(p) === "package.json" && !/(^|\/)node_modules\//.test(p));
  const moduleDirs: string[] = [];
  const commonjsDirs: string[] = [];
  for (const p of pkgs) {
    const d = path.posix.dirname(p) === "." ? "" : path.posix.dirname(p);
    let type: unknown;
    try {
      type = (JSON.parse(readFileSync(path.join(checkout, p), "utf8")) as { type?: unknown }).type;
    } catch {
      type = undefined;
    }
    (type === "module" ? moduleDirs : commonjsDirs).push(d);
  }
  const eslint = new ESLint({ cwd: checkout, overrideConfigFile: true, overrideConfig: defaultFlatConfig(moduleDirs, commonjsDirs) });
  const results = await eslint.lintFiles(files.map((f) => path.join(checkout, f)));
  const out = new Map<string, OracleMessage[]>();
  for (const r of results) {
    const rel = path.relative(checkout, r.filePath).split(path.sep).join("/");
    out.set(
      rel,
      sortMessages(r.messages.map((m) => ({ ruleId: m.ruleId, severity: m.severity, line: m.line || 1, column: m.column || 1, message: m.message }))),
    );
  }
  return out;
}

export function sortMessages<T extends OracleMessage>(ms: T[]): T[] {
  return [...ms].sort(
    (a, b) => a.line - b.line || a.column - b.column || String(a.ruleId).localeCompare(String(b.ruleId)) || a.message.localeCompare(b.message),
  );
}

/** A report's files in the oracle's shape. */
export function reportAsOracle(report: Report): Map<string, OracleMessage[]> {
  return new Map(
    report.files.map((f) => [
      f.path,
      sortMessages(f.messages.map((m) => ({ ruleId: m.ruleId, severity: m.severity, line: m.line, column: m.column, message: m.message }))),
    ]),
  );
}
