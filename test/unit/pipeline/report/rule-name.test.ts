/**
 * Messages without a rule are not all parse errors: each kind has its own name,
 * in the JSON report (kind), the delta, and the fingerprint.
 */
import { describe, expect, test } from "vitest";
import { fingerprints, publicMessages, ruleName, type CachedMessage } from "../../../../shared/pipeline/report.js";

const at = (m: Partial<CachedMessage>): CachedMessage => ({
  linter: "eslint",
  ruleId: null,
  severity: 2,
  line: 1,
  column: 1,
  message: "",
  context: "h",
  lineHash: "h",
  ...m,
});

describe("ruleName", () => {
  test.each([
    [at({ ruleId: "no-undef" }), "no-undef"],
    [at({ fatal: true, message: "Parsing error: Unexpected token )" }), "parse-error"],
    [at({ fatal: true, message: "eslint crashed its lint thread: out of memory" }), "fatal"],
    [at({ linter: "farm", fatal: true, message: "farm could not lint this file: gave up" }), "unlintable"],
    [at({ severity: 1, message: "Unused eslint-disable directive (no problems were reported from 'no-console')." }), "unused-disable-directive"],
    [
      at({ severity: 1, message: "Unused eslint-enable directive (no matching eslint-disable directives were found for 'eqeqeq')." }),
      "unused-enable-directive",
    ],
  ])("%j is %s", (m, name) => {
    expect(ruleName(m)).toBe(name);
  });
});

test("the JSON report and the delta say what kind a message without a rule is", () => {
  const file = {
    path: "a.js",
    blob: "b",
    messages: [
      at({ severity: 1, message: "Unused eslint-disable directive (no problems were reported from 'no-console')." }),
      at({ ruleId: "no-undef", line: 2 }),
    ],
  };
  const [directive, rule] = publicMessages(file);
  expect(directive).toMatchObject({ ruleId: null, kind: "unused-disable-directive" });
  expect(directive.fatal).toBeUndefined();
  expect(rule.kind).toBeUndefined();
  expect(fingerprints(file)[0].entry).toMatchObject({ ruleId: null, kind: "unused-disable-directive" });
});

test("a directive report and a parse error on the same line have different fingerprints", () => {
  const directive = at({ severity: 1, message: "Unused eslint-disable directive (no problems were reported from 'no-console')." });
  const parse = at({ fatal: true, message: "Parsing error: Unexpected token" });
  const fp = (m: CachedMessage) => fingerprints({ path: "a.js", blob: "b", messages: [m] })[0].fingerprint;
  expect(fp(directive)).not.toBe(fp(parse));
});
