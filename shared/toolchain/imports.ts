/**
 * The packages a config module loads, found by parsing it (never by running
 * it): its static `import … from "x"` and `export … from "x"`, `import("x")`
 * and `require("x")` / `require.resolve("x")` with a literal. Relative imports
 * of files of the tree are followed and parsed too, `maxDepth` deep; builtins
 * are dropped; a specifier that is not a literal is noted.
 */
import { relativeExtendsTarget } from "../lint/extends.js";
import { fileKind } from "../lint/source-type.js";
import { isMember, isNode, parseModule, stringValue, walk, type AstNode } from "./module-ast.js";
import { reason } from "./notes.js";
import { classifySpecifier } from "./package-name.js";
import type { Scan } from "./scan.js";

/** How a relative specifier without its extension is completed, as `require` and bundlers do. */
const COMPLETIONS = ["", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", "/index.js", "/index.mjs", "/index.cjs", "/index.ts"];

/** Whether `path` is a module the scan parses (JavaScript or TypeScript; JSON and the rest hold no imports). */
export function isModulePath(path: string): boolean {
  return fileKind(path) !== null;
}

/** A module's specifiers in document order; `dynamic` counts the loads whose specifier is not a literal. */
export function moduleSpecifiers(ast: AstNode): { specifiers: string[]; dynamic: number } {
  const specifiers: string[] = [];
  let dynamic = 0;
  const take = (node: unknown) => {
    const s = stringValue(node);
    if (s === null) dynamic++;
    else specifiers.push(s);
  };
  for (const node of walk(ast)) {
    switch (node.type) {
      case "ImportDeclaration":
      case "ExportAllDeclaration":
      case "ExportNamedDeclaration":
        // Type-only imports of a TypeScript config load nothing.
        if (node.source && node.importKind !== "type" && node.exportKind !== "type") take(node.source);
        break;
      case "ImportExpression":
        take(node.source);
        break;
      case "CallExpression":
        if (isRequire(node.callee)) take((node.arguments as unknown[])[0]);
        break;
      case "TSExternalModuleReference":
        take(node.expression);
        break;
    }
  }
  return { specifiers, dynamic };
}

/** `require` or `require.resolve`. */
function isRequire(callee: unknown): boolean {
  return (isNode(callee) && callee.type === "Identifier" && callee.name === "require") || isMember(callee, "require", "resolve");
}

/** The file of the tree a relative specifier of `from` loads, or null (noted). */
function relativeTarget(scan: Scan, spec: string, from: string): string | null {
  const target = relativeExtendsTarget(spec, from);
  if (target === null) {
    scan.notes.add(`${from} imports "${spec}", outside the repository: not read`);
    return null;
  }
  for (const c of COMPLETIONS) if (scan.files.has(target + c)) return target + c;
  scan.notes.add(`${from} imports "${spec}", which is not a file of the commit`);
  return null;
}

/** Reads more of a parsed module (its file, its syntax tree, the packages it imports), e.g. the eslintrc names of FlatCompat calls. */
export type ModuleVisitor = (file: string, ast: AstNode, imports: ReadonlySet<string>) => Promise<void>;

/**
 * Parses `entry` and the files it imports relatively (depth first, `maxDepth`
 * deep), adding the packages they load to `scan`, and passing each parsed
 * module to `visit`. Returns the entry's syntax tree, or null when it could
 * not be read or parsed (noted).
 */
export async function scanImports(scan: Scan, entry: string, depth = 0, visit?: ModuleVisitor): Promise<AstNode | null> {
  if (!scan.claim(entry)) return null;
  const text = await scan.files.text(entry);
  if (text === null) return null;
  const typescript = fileKind(entry)?.language === "ts";
  let ast: AstNode;
  try {
    ast = await parseModule(text, await scan.files.sourceType(entry), typescript);
  } catch (err) {
    scan.notes.add(`${entry} does not parse (${reason(err)}): the packages it imports are not read`);
    return null;
  }
  const { specifiers, dynamic } = moduleSpecifiers(ast);
  if (dynamic > 0) scan.notes.add(`${entry} loads ${dynamic} module(s) by a name that is not a literal: not followed`);
  const imports = new Set<string>();
  for (const spec of specifiers) {
    const kind = classifySpecifier(spec);
    if (kind.kind === "package") {
      imports.add(kind.name);
      scan.name(kind.name, entry, "imported");
    } else if (kind.kind === "unsupported") scan.notes.add(`${entry} imports "${spec.slice(0, 100)}" (${kind.why}): not followed`);
    else if (kind.kind === "relative") {
      const target = relativeTarget(scan, kind.path, entry);
      if (target === null || !isModulePath(target) || scan.parsed.has(target)) continue;
      if (depth + 1 > scan.limits.maxDepth) scan.notes.add(`${target} is more than ${scan.limits.maxDepth} imports deep from the config: not read`);
      else await scanImports(scan, target, depth + 1, visit);
    }
  }
  await visit?.(entry, ast, imports);
  return ast;
}
