/**
 * Rule settings are validated once per config, without linting a file: an
 * unknown rule or invalid options are the commit's configuration error
 * (RepoConfigError, permanent), never an "invalid settings" message per file.
 */
import { describe, expect, test } from "vitest";
import { isPermanent } from "../../../shared/fabric/errors.js";
import { RepoConfigError, defaultFileConfig, validateLintConfig, type FileLintConfig } from "../../../shared/lint/index.js";

const js = defaultFileConfig("a.js");
const ts = defaultFileConfig("a.ts");

function problem(config: FileLintConfig): Error | null {
  try {
    validateLintConfig(config);
    return null;
  } catch (err) {
    return err as Error;
  }
}

describe("validateLintConfig", () => {
  test("known rules with valid options pass, JS and TS", () => {
    expect(problem({ ...js, rules: { "no-console": 1, eqeqeq: [2, "smart"], "no-unused-vars": [1, { args: "none" }] } })).toBeNull();
    expect(problem({ ...ts, rules: { "no-console": 1, "@typescript-eslint/no-explicit-any": [2, { ignoreRestArgs: true }] } })).toBeNull();
  });

  test("an unknown rule is a permanent RepoConfigError of .farm.json naming the rule", () => {
    const err = problem({ ...js, rules: { "no-console": 1, "definitely-not-a-rule": 1 } });
    expect(err).toBeInstanceOf(RepoConfigError);
    expect(isPermanent(err)).toBe(true);
    expect(err!.message).toBe('.farm.json: unknown ESLint rule "definitely-not-a-rule" in "rules"');
    expect(problem({ ...ts, rules: { "@typescript-eslint/nope": 2 } })!.message).toMatch(/unknown ESLint rule "@typescript-eslint\/nope"/);
    expect(problem({ ...js, rules: { "react/jsx-key": 2 } })!.message).toMatch(/unknown ESLint rule "react\/jsx-key"/);
  });

  test("invalid options are a RepoConfigError naming the rule and what is wrong", () => {
    const err = problem({ ...js, rules: { "no-unused-vars": [2, { bogus: true }] } });
    expect(err).toBeInstanceOf(RepoConfigError);
    expect(err!.message).toMatch(/^\.farm\.json: invalid options for rule "no-unused-vars": .*Unexpected property "bogus"/);
    expect(err!.message).not.toMatch(/\n/);
    expect(problem({ ...ts, rules: { "@typescript-eslint/no-explicit-any": [2, { bogus: 1 }] } })).toBeInstanceOf(RepoConfigError);
  });

  test("a config without ESLint has no rules to check", () => {
    expect(problem({ ...js, linters: ["jshint"], rules: {} })).toBeNull();
  });
});
