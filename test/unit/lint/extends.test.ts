import { describe, expect, test } from "vitest";
import { parseConfigText, parseExtendedText } from "../../../shared/lint/extends.js";

describe("reading eslintrc texts", () => {
  test("a YAML config read twice gives equal values, each the reader's own copy", () => {
    const text = "env:\n  node: true\nrules:\n  quotes: [2, single]\n";
    const first = parseConfigText(text, ".eslintrc.yml") as { rules: { quotes: unknown[] } };
    first.rules.quotes.push("mutated by a reader");
    const second = parseConfigText(text, "sub/.eslintrc.yaml");
    expect(second).toEqual({ env: { node: true }, rules: { quotes: [2, "single"] } });
    expect(parseExtendedText(text, "config/base.yml")).toEqual(second);
  });

  test("a document of aliases that would expand without bound is refused, every time", () => {
    const laughs = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      ...Array.from(
        { length: 12 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      ),
    ].join("\n");
    expect(() => parseConfigText(laughs, ".eslintrc.yml")).toThrow(/alias/i);
    expect(() => parseConfigText(laughs, ".eslintrc.yml")).toThrow(/alias/i);
  });
});
