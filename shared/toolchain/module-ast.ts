/**
 * A config module read as a syntax tree, never run: JavaScript parsed with
 * espree (ESLint's own parser), TypeScript with typescript-eslint's parser
 * (loaded only for a TypeScript config). Walks are iterative, so a deeply
 * nested file cannot overflow the stack here.
 */
import type { SourceType } from "../lint/types.js";

/** An ESTree node as far as this module looks at it. */
export interface AstNode {
  type: string;
  [key: string]: unknown;
}

export function isNode(value: unknown): value is AstNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

type TsParse = (text: string, options: object) => { ast: unknown };
let tsParse: TsParse | undefined;
/** espree, loaded at the first JavaScript config (a fiftieth of a second of every splitter's start-up otherwise). */
let espree: typeof import("espree") | undefined;

/**
 * The syntax tree of `text`. JavaScript is tried as `sourceType` first, then
 * as the other kind (a `.js` config whose package.json does not say it is a
 * module, as Node would then still load it). Throws the parser's error.
 */
export async function parseModule(text: string, sourceType: SourceType, typescript: boolean): Promise<AstNode> {
  const body = text.replace(/^\uFEFF/, "").replace(/^#![^\n]*/, "");
  if (typescript) {
    if (!tsParse) {
      const { parser } = (await import("typescript-eslint")).default;
      tsParse = (code, options) => (parser.parseForESLint as TsParse).call(parser, code, options);
    }
    return tsParse(body, { sourceType: "module", ecmaVersion: "latest", range: false, loc: false }).ast as AstNode;
  }
  espree ??= await import("espree");
  const { parse } = espree;
  const as = (type: SourceType) => parse(body, { ecmaVersion: "latest", sourceType: type }) as unknown as AstNode;
  try {
    return as(sourceType);
  } catch (err) {
    try {
      return as(sourceType === "module" ? "commonjs" : "module");
    } catch {
      throw err;
    }
  }
}

/** Every node under `root`, in document order. */
export function* walk(root: AstNode): Generator<AstNode> {
  const stack: AstNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    yield node;
    const children: AstNode[] = [];
    for (const [key, value] of Object.entries(node)) {
      if (key === "parent" || key === "loc" || key === "range") continue;
      if (Array.isArray(value)) for (const v of value) if (isNode(v)) children.push(v);
      if (isNode(value)) children.push(value);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
}

/** Whether `node` is `object.property` (both plain identifiers: `module.exports`, `require.resolve`). */
export function isMember(node: unknown, object: string, property: string): boolean {
  return (
    isNode(node) &&
    node.type === "MemberExpression" &&
    !node.computed &&
    isNode(node.object) &&
    node.object.type === "Identifier" &&
    node.object.name === object &&
    isNode(node.property) &&
    node.property.type === "Identifier" &&
    node.property.name === property
  );
}

/** The string a literal or an expressionless template literal holds, else null. */
export function stringValue(node: unknown): string | null {
  if (!isNode(node)) return null;
  if (node.type === "Literal" && typeof node.value === "string") return node.value;
  if (node.type === "TemplateLiteral" && Array.isArray(node.expressions) && node.expressions.length === 0) {
    const quasi = (node.quasis as { value: { cooked: string | null } }[])[0];
    return quasi?.value.cooked ?? null;
  }
  return null;
}

/** Nesting kept by {@link literalValue}: configs are shallow; deeper parts are dropped as not literal. */
const MAX_LITERAL_DEPTH = 32;

/**
 * The data an expression writes literally (objects, arrays, strings, numbers,
 * booleans, null); anything else (a call, a variable, a spread) is left out of
 * its object or array and `partial` is set.
 */
export function literalValue(node: unknown, state = { partial: false }, depth = 0): unknown {
  if (!isNode(node) || depth > MAX_LITERAL_DEPTH) return ((state.partial = true), undefined);
  const s = stringValue(node);
  if (s !== null) return s;
  if (node.type === "Literal" && !("regex" in node) && !("bigint" in node)) return node.value;
  if (node.type === "ArrayExpression") {
    const out: unknown[] = [];
    for (const el of node.elements as unknown[]) {
      const v = literalValue(el, state, depth + 1);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  if (node.type === "ObjectExpression") {
    const out: Record<string, unknown> = {};
    for (const p of node.properties as AstNode[]) {
      const key = p.type === "Property" && !p.computed && isNode(p.key) ? (p.key.type === "Identifier" ? p.key.name : stringValue(p.key)) : null;
      const v = typeof key === "string" ? literalValue(p.value, state, depth + 1) : undefined;
      if (typeof key === "string" && v !== undefined) Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else state.partial = true;
    }
    return out;
  }
  state.partial = true;
  return undefined;
}
