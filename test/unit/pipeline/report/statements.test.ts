import { describe, expect, it } from "vitest";
import { statementContexts } from "../../../../shared/pipeline/statements.js";

/** The context of the first occurrence of `needle` in `content` (its line and column). */
function contextAt(content: string, needle: string): string {
  const at = content.indexOf(needle);
  expect(at).toBeGreaterThanOrEqual(0);
  const before = content.slice(0, at).split("\n");
  return statementContexts(content, [{ line: before.length, column: before[before.length - 1].length + 1 }])[0];
}

const STANDARD = `const x = foo(a, b, 'c')
const unused = x.map(y => y + 1)
function f (y) { return y ? "yes" : 'no' }
`;
const PRETTIER = `const x = foo(
  a,
  b,
  "c",
);
const unused = x.map((y) =>
  y + 1,
);
function f(y) {
  return y
    ? "yes"
    : "no";
}
`;

describe("statement contexts", () => {
  it("stay the same when a formatter splits statements, adds semicolons, trailing commas and parentheses, and changes quotes", () => {
    for (const needle of ["foo", "unused", "return", "yes"]) expect(contextAt(PRETTIER, needle), needle).toBe(contextAt(STANDARD, needle));
  });

  it("differ when a name or a value changes", () => {
    expect(contextAt(STANDARD.replace("unused", "unused2"), "unused2")).not.toBe(contextAt(STANDARD, "unused"));
    expect(contextAt(STANDARD.replace("y + 1", "y + 2"), "unused")).not.toBe(contextAt(STANDARD, "unused"));
  });

  it("tell apart statements on separate lines without semicolons, and keep a chain split over lines as one", () => {
    const asi = "let a = 1\nlet b = 2\n";
    expect(contextAt(asi, "a")).not.toBe(contextAt(asi, "b"));
    const chain = "promise\n  .then(go)\n  .catch(stop)\n";
    expect(contextAt(chain, "catch")).toBe(contextAt("promise.then(go).catch(stop)\n", "promise"));
  });

  it("give a message at a block's brace the statement the brace ends", () => {
    const src = "if (ready) {\n  go();\n}\n";
    expect(contextAt(src, "{")).toBe(contextAt(src, "if"));
    expect(contextAt(src, "{")).not.toBe(contextAt(src, "go"));
  });

  it("answer for any text and any position, even past the end", () => {
    const [a, b] = statementContexts("# Title\n\nSome 'prose with an unclosed quote\n", [
      { line: 3, column: 1 },
      { line: 99, column: 1 },
    ]);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(b).toMatch(/^[0-9a-f]{16}$/);
    expect(statementContexts("", [{ line: 1, column: 1 }])).toHaveLength(1);
  });
});
