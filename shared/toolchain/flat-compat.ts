/**
 * Flat configs written with @eslint/eslintrc's FlatCompat name eslintrc
 * configs as data: `compat.extends("standard", "plugin:n/recommended")`,
 * `compat.plugins("react")`, `compat.config({ extends: […], parser: "…" })`.
 * Read, best effort, in the modules that import @eslint/eslintrc: the string
 * literals of those calls, named as an eslintrc would name them.
 */
import { scanEslintrc } from "./eslintrc-packages.js";
import type { ModuleVisitor } from "./imports.js";
import { isNode, literalValue, stringValue, walk } from "./module-ast.js";
import type { Scan } from "./scan.js";

const FLAT_COMPAT_PACKAGE = "@eslint/eslintrc";

/** A visitor of the config's modules that adds the packages their FlatCompat calls name. */
export function flatCompatVisitor(scan: Scan): ModuleVisitor {
  return async (file, ast, imports) => {
    if (!imports.has(FLAT_COMPAT_PACKAGE)) return;
    for (const node of walk(ast)) {
      if (node.type !== "CallExpression" || !isNode(node.callee) || node.callee.type !== "MemberExpression" || node.callee.computed) continue;
      const method = isNode(node.callee.property) && node.callee.property.type === "Identifier" ? node.callee.property.name : null;
      const args = node.arguments as unknown[];
      if (method === "extends" || method === "plugins") {
        const names = args.map(stringValue).filter((s): s is string => s !== null);
        await scanEslintrc(scan, { [method]: names }, file);
      } else if (method === "config") {
        await scanEslintrc(scan, literalValue(args[0]), file);
      }
    }
  };
}
