import { describe, expect, it } from "vitest";
import { withContexts, type FileMessages } from "../../../../shared/pipeline/report.js";
import { computeDelta, pairFiles } from "../../../../shared/pipeline/tracking.js";

/** A file's messages as a linter would give them: one per [rule, message, needle], at the needle's first occurrence. */
function linted(
  path: string,
  content: string,
  issues: (readonly [rule: string, message: string, needle: string])[],
  blob = `${path}:${content}`,
): FileMessages {
  const messages = issues.map(([ruleId, message, needle]) => {
    const at = content.indexOf(needle);
    if (at < 0) throw new Error(`${needle} not in ${path}`);
    const before = content.slice(0, at).split("\n");
    return { linter: "eslint" as const, ruleId, severity: 2 as const, message, line: before.length, column: before[before.length - 1].length + 1 };
  });
  return { path, blob, configId: "c", messages: withContexts(messages, content) };
}

const UNUSED_A = ["no-unused-vars", "'unusedA' is assigned a value but never used.", "unusedA"] as const;
const UNUSED_B = ["no-unused-vars", "'unusedB' is assigned a value but never used.", "unusedB"] as const;
const DEBUGGER = ["no-debugger", "Unexpected 'debugger' statement.", "debugger"] as const;
const CONSOLE = ["no-console", "Unexpected console statement.", "console"] as const;

const V1 = `function alpha (a, b) {
  const unusedA = a + b
  debugger
  return 'alpha'
}

function beta (x) {
  const unusedB = x * 2
  return 'beta'
}
`;
// V1 as Prettier writes it: statements split, semicolons, double quotes, trailing commas.
const V1_PRETTIER = `function alpha(
  a,
  b,
) {
  const unusedA =
    a +
    b;
  debugger;
  return "alpha";
}

function beta(x) {
  const unusedB = x * 2;
  return "beta";
}
`;
const V1_REORDERED = `function beta (x) {
  const unusedB = x * 2
  return 'beta'
}

function alpha (a, b) {
  const unusedA = a + b
  debugger
  return 'alpha'
}
`;

const v1 = (path = "src/util.js", content = V1) => linted(path, content, [UNUSED_A, DEBUGGER, UNUSED_B], "blob-v1" + (content === V1 ? "" : content));

describe("computeDelta", () => {
  it("finds nothing new or fixed in a pure rename, and says where the file came from", () => {
    const before = v1();
    const after = { ...v1("lib/util.js"), blob: before.blob };
    const d = computeDelta([after], [before]);
    expect(d).toEqual({ new: [], fixed: [], moved: [{ from: "src/util.js", to: "lib/util.js" }] });
  });

  it("finds nothing new or fixed when a file is reformatted or its functions reordered, and keeps the fingerprints", () => {
    for (const content of [V1_PRETTIER, V1_REORDERED]) {
      const d = computeDelta([v1("src/util.js", content)], [v1()]);
      expect(d).toEqual({ new: [], fixed: [] });
    }
  });

  it("sees a real new issue and a real fix exactly once each", () => {
    const added = V1.replace("  return 'beta'", "  const unusedC = 3\n  return 'beta'");
    const withC = linted("src/util.js", added, [UNUSED_A, DEBUGGER, UNUSED_B, ["no-unused-vars", "'unusedC' is assigned a value but never used.", "unusedC"]]);
    const d1 = computeDelta([withC], [v1()]);
    expect(d1.new.map((e) => e.message)).toEqual(["'unusedC' is assigned a value but never used."]);
    expect(d1.fixed).toEqual([]);
    const noDebugger = linted("src/util.js", V1.replace("  debugger\n", ""), [UNUSED_A, UNUSED_B]);
    const d2 = computeDelta([noDebugger], [v1()]);
    expect(d2.new).toEqual([]);
    expect(d2.fixed.map((e) => e.ruleId)).toEqual(["no-debugger"]);
  });

  it("follows a rename with edits that git reported, giving only the edits", () => {
    const edited = V1.replace("  return 'beta'", "  const unusedC = 3\n  return 'beta'");
    const after = linted("lib/helpers.js", edited, [
      UNUSED_A,
      DEBUGGER,
      UNUSED_B,
      ["no-unused-vars", "'unusedC' is assigned a value but never used.", "unusedC"],
    ]);
    const d = computeDelta([after], [v1()], [{ from: "src/util.js", to: "lib/helpers.js" }]);
    expect(d.new.map((e) => [e.path, e.message])).toEqual([["lib/helpers.js", "'unusedC' is assigned a value but never used."]]);
    expect(d.fixed).toEqual([]);
    expect(d.moved).toEqual([{ from: "src/util.js", to: "lib/helpers.js" }]);
  });

  it("gives a copied and edited file exactly its edits, and leaves the source's issues with the source", () => {
    const source = v1();
    const copy = linted("src/copy.js", V1.replace("  debugger\n", ""), [UNUSED_A, UNUSED_B]);
    const d = computeDelta([source, copy], [source], [{ from: "src/util.js", to: "src/copy.js", copy: true }]);
    expect(d).toEqual({ new: [], fixed: [], moved: [{ from: "src/util.js", to: "src/copy.js", copy: true }] });
    const withNew = linted("src/copy.js", V1.replace("return 'beta'", "const unusedC = 1"), [
      UNUSED_A,
      DEBUGGER,
      UNUSED_B,
      ["no-unused-vars", "'unusedC' is assigned a value but never used.", "unusedC"],
    ]);
    expect(computeDelta([source, withNew], [source], [{ from: "src/util.js", to: "src/copy.js", copy: true }]).new).toHaveLength(1);
  });

  it("finds a copy of unchanged content by its blob when git named no source", () => {
    const source = v1();
    const d = computeDelta([source, { ...source, path: "src/again.js" }], [source]);
    expect(d).toEqual({ new: [], fixed: [], moved: [{ from: "src/util.js", to: "src/again.js", copy: true }] });
  });

  it("keeps an issue whose statement was edited, and says which fingerprint it had", () => {
    const edited = V1.replace("const unusedA = a + b", "const unusedA = a + b + 1");
    const d = computeDelta([linted("src/util.js", edited, [UNUSED_A, DEBUGGER, UNUSED_B])], [v1()]);
    expect(d.new).toEqual([]);
    expect(d.fixed).toEqual([]);
    expect(d.carried).toHaveLength(1);
    expect(d.carried![0].from.fingerprint).not.toBe(d.carried![0].fingerprint);
  });

  it("does not take an issue removed in one place and one added far away for the same issue", () => {
    const lines = Array.from({ length: 60 }, (_, i) => `f${i}()`);
    const early = [...lines];
    early[5] = "console.log(1)";
    const late = [...lines];
    late[50] = "console.log(2)";
    const d = computeDelta([linted("a.js", late.join("\n"), [CONSOLE])], [linted("a.js", early.join("\n"), [CONSOLE])]);
    expect([d.new.length, d.fixed.length]).toEqual([1, 1]);
  });

  it("counts a removed file's issues as fixed and a new file's as new", () => {
    const d = computeDelta([linted("b.js", "debugger\n", [DEBUGGER])], [v1()]);
    expect([d.new.length, d.fixed.length]).toEqual([1, 3]);
  });
});

describe("pairFiles", () => {
  it("loads nothing for unchanged paths and nothing for a move of unchanged content", () => {
    const a = { path: "a.js", blob: "1", configId: "c" };
    const b = { path: "b.js", blob: "2", configId: "c" };
    const { pairs, moved } = pairFiles([a, { ...b, path: "moved/b.js" }], [a, b]);
    expect(pairs).toEqual([]);
    expect(moved).toEqual([{ from: "b.js", to: "moved/b.js" }]);
  });

  it("follows each removed path once: a second new file of the same blob is a copy", () => {
    const a = { path: "a.js", blob: "1", configId: "c" };
    const { moved } = pairFiles(
      [
        { ...a, path: "x.js" },
        { ...a, path: "y.js" },
      ],
      [a],
    );
    expect(moved).toEqual([
      { from: "a.js", to: "x.js" },
      { from: "a.js", to: "y.js", copy: true },
    ]);
  });
});
