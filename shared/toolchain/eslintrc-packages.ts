/**
 * The packages a legacy (eslintrc) config names as data: its `extends`
 * shareable configs (`standard` → `eslint-config-standard`, `plugin:n/x` →
 * `eslint-plugin-n`), `plugins`, `parser` and `parserOptions.parser`, in its
 * overrides too. Relative `extends` are followed through the tree; a
 * JavaScript config is parsed (never run): the packages it imports, and the
 * literal parts of the object it exports.
 */
import { JS_CONFIG, parseExtendedText, relativeExtendsTarget } from "../lint/extends.js";
import { isPlainObject } from "../lint/jsonc.js";
import { scanImports } from "./imports.js";
import { isMember, isNode, literalValue, walk, type AstNode } from "./module-ast.js";
import { reason } from "./notes.js";
import { classifySpecifier, eslintPackageName } from "./package-name.js";
import type { Scan } from "./scan.js";

/** Parsers ESLint itself brings: nothing to install. */
const OWN_PARSERS = new Set(["espree"]);

/** Adds to `scan` the packages the config object `raw` of `file` names; `depth`: relative `extends` followed so far. */
export async function scanEslintrc(scan: Scan, raw: unknown, file: string, depth = 0): Promise<void> {
  if (!isPlainObject(raw)) return;
  for (const ext of [raw.extends ?? []].flat()) {
    if (typeof ext !== "string" || ext.startsWith("eslint:")) continue;
    if (ext.startsWith("plugin:")) {
      const plugin = ext.slice("plugin:".length, ext.lastIndexOf("/"));
      if (ext.lastIndexOf("/") < "plugin:".length) scan.notes.add(`${file}: extends "${ext}" names no plugin: ignored`);
      else named(scan, eslintPackageName(plugin, "eslint-plugin"), file, ext);
    } else if (ext.startsWith(".") || ext.startsWith("/")) await scanExtended(scan, ext, file, depth);
    else if (named(scan, eslintPackageName(ext, "eslint-config"), file, ext)) {
      scan.notes.add(`${file}: the peer dependencies of "${ext}" are not listed (the installer adds peers)`);
    }
  }
  for (const plugin of Array.isArray(raw.plugins) ? (raw.plugins as unknown[]) : []) {
    if (typeof plugin === "string") named(scan, eslintPackageName(plugin, "eslint-plugin"), file, plugin);
  }
  const parsers = [raw.parser, isPlainObject(raw.parserOptions) ? raw.parserOptions.parser : undefined];
  for (const parser of parsers) {
    if (typeof parser !== "string" || OWN_PARSERS.has(parser)) continue;
    if (parser.startsWith(".") || parser.startsWith("/")) scan.notes.add(`${file}: parser "${parser}" is a file path: not installed`);
    else named(scan, parser, file, parser);
  }
  for (const override of Array.isArray(raw.overrides) ? (raw.overrides as unknown[]) : []) await scanEslintrc(scan, override, file, depth);
}

/** Records the package `pkg` (a config's `what`) names; false, with a note, when it is no package name. */
function named(scan: Scan, pkg: string, file: string, what: string): boolean {
  const kind = classifySpecifier(pkg);
  if (kind.kind === "package") scan.name(kind.name, file, "named");
  else scan.notes.add(`${file}: "${what.slice(0, 100)}" is not a package name: ignored`);
  return kind.kind === "package";
}

/** A relative `extends`: the file it names, read as data, or parsed when it is JavaScript. */
async function scanExtended(scan: Scan, ext: string, file: string, depth: number): Promise<void> {
  const target = relativeExtendsTarget(ext, file);
  if (target === null || !scan.files.has(target)) {
    scan.notes.add(`${file}: extends "${ext}", ${target === null ? "outside the repository" : "not a file of the commit"}: not read`);
    return;
  }
  if (depth + 1 > scan.limits.maxDepth) {
    scan.notes.add(`${target} is more than ${scan.limits.maxDepth} extends deep from the config: not read`);
    return;
  }
  if (JS_CONFIG.test(target)) return scanEslintrcModule(scan, target, depth + 1);
  return scanEslintrcData(scan, target, parseExtendedText, depth + 1);
}

/** A data config file (`parse` reads its text by its name): the packages it names. */
export async function scanEslintrcData(scan: Scan, file: string, parse: (text: string, file: string) => unknown, depth = 0): Promise<void> {
  if (!scan.claim(file)) return;
  const text = await scan.files.text(file);
  if (text === null) return;
  let raw: unknown;
  try {
    raw = parse(text, file);
  } catch (err) {
    scan.notes.add(`${file} does not parse (${reason(err)}): the packages it names are not read`);
    return;
  }
  await scanEslintrc(scan, raw, file, depth);
}

/** A JavaScript eslintrc (`.eslintrc.js`, `.cjs`): the packages it imports, then those its exported object literal names. */
export async function scanEslintrcModule(scan: Scan, file: string, depth = 0): Promise<void> {
  const ast = await scanImports(scan, file, depth);
  if (ast === null) return;
  const exported = exportedObject(ast);
  if (exported === null) {
    scan.notes.add(`${file} does not export an object literal: only the packages it imports are read`);
    return;
  }
  const state = { partial: false };
  const raw = literalValue(exported, state);
  if (state.partial) scan.notes.add(`${file}: only the literal parts of its exported object are read`);
  await scanEslintrc(scan, raw, file, depth);
}

/** The object literal of `module.exports = {…}` or `export default {…}` at the top level, or null. */
function exportedObject(ast: AstNode): AstNode | null {
  for (const node of walk(ast)) {
    if (node.type === "ExportDefaultDeclaration" && isNode(node.declaration) && node.declaration.type === "ObjectExpression") return node.declaration;
    if (node.type !== "AssignmentExpression" || !isNode(node.right) || node.right.type !== "ObjectExpression") continue;
    if (isMember(node.left, "module", "exports")) return node.right;
  }
  return null;
}
