/**
 * farm's SARIF is valid SARIF 2.1.0 and what a code-scanning upload expects:
 * one run for one commit, repository and artifact locations that are URIs
 * (never with credentials), rule ids for messages without a rule, and
 * baseline states from the delta.
 *
 * The schema fixture (test/fixtures/sarif-schema-2.1.0.json) is the OASIS SARIF
 * TC's draft-07 schema ($id raw.githubusercontent.com/oasis-tcs/sarif-spec/
 * master/Schemata/sarif-schema-2.1.0.json), copied unchanged from the npm
 * package @datadog/datadog-ci@2.48.0 (dist/commands/sarif/json-schema/;
 * sha256 10666d46…556454). @microsoft/sarif-multitool-linux@5.7.0 ships only a
 * draft 2020-12 rewrite of it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, test } from "vitest";
import type { DeltaEntry, LintMessage, Report } from "../../../../shared/pipeline/report.js";
import { emptySarifLog, toSarif, withoutCredentials, type SarifLog } from "../../../../shared/pipeline/sarif.js";

// ajv-formats is CommonJS: under NodeNext its default import is the module, whose .default is the plugin.
const addFormats = addFormatsModule.default;
const schema = JSON.parse(readFileSync(fileURLToPath(new URL("../../../fixtures/sarif-schema-2.1.0.json", import.meta.url)), "utf8"));
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(schema);

function expectValid(log: SarifLog) {
  const ok = validate(log);
  // The errors in the failure message say which property broke the schema.
  expect(ok ? [] : validate.errors).toEqual([]);
}

const msg = (m: Partial<LintMessage> & Pick<LintMessage, "message" | "fingerprint">): LintMessage => ({
  linter: "eslint",
  ruleId: null,
  severity: 2,
  line: 1,
  column: 1,
  ...m,
});

const parseError = msg({ fatal: true, kind: "parse-error", line: 3, column: 7, message: "Parsing error: Unexpected token", fingerprint: "fp-parse" });
const directive = msg({
  kind: "unused-disable-directive",
  severity: 1,
  line: 2,
  column: 1,
  endLine: 2,
  endColumn: 31,
  message: "Unused eslint-disable directive (no problems were reported from 'no-console').",
  fingerprint: "fp-directive",
});
const noUndef = msg({ ruleId: "no-undef", line: 4, column: 1, endLine: 4, endColumn: 4, message: "'foo' is not defined.", fingerprint: "fp-undef" });
const tsAny = msg({ ruleId: "@typescript-eslint/no-explicit-any", severity: 1, line: 5, column: 9, message: "Unexpected any.", fingerprint: "fp-any" });
const jshint = msg({ linter: "jshint", ruleId: "W033", severity: 1, line: 6, column: 2, message: "Missing semicolon.", fingerprint: "fp-w033" });

const entry = (m: LintMessage, path: string): DeltaEntry => ({
  path,
  linter: m.linter,
  ruleId: m.ruleId,
  ...(m.kind ? { kind: m.kind } : {}),
  severity: m.severity,
  line: m.line,
  column: m.column,
  message: m.message,
  fingerprint: m.fingerprint!,
});

const fixed = entry(msg({ ruleId: "no-debugger", line: 9, column: 3, message: "Unexpected 'debugger' statement.", fingerprint: "fp-gone" }), "src/old name.js");

/** A local repository, a path with a space, messages of every kind, and a baseline. */
const local: Report = {
  repo: "/tmp/some repo/x",
  sha: "b".repeat(40),
  parent: "a".repeat(40),
  linters: { eslint: "10.15.0", jshint: "2.13.6" },
  summary: { files: 2, errors: 2, warnings: 3 },
  files: [
    { path: "src/my file.js", blob: "1".repeat(40), messages: [parseError] },
    { path: "lib/util#1.ts", blob: "2".repeat(40), messages: [directive, noUndef, tsAny, jshint] },
  ],
  delta: { new: [entry(noUndef, "lib/util#1.ts")], fixed: [fixed] },
};

/** A remote repository whose url carries credentials; the root of a history (no baseline). */
const remote: Report = {
  repo: "https://user:secret@example.com/x.git?access_token=abc",
  sha: "c".repeat(40),
  parent: null,
  linters: { eslint: "10.15.0" },
  summary: { files: 1, errors: 1, warnings: 0 },
  files: [{ path: "index.js", blob: "3".repeat(40), messages: [noUndef] }],
  delta: null,
};

/** The local report as linted with the repository's own toolchain (a package name a hostile registry mirror could give). */
const ownToolchain: Report = {
  ...local,
  toolchain: {
    id: "1a2b3c4d".repeat(8),
    configFile: "eslint.config.mjs",
    format: "flat",
    eslint: "9.12.0",
    packages: { "eslint-plugin-n": "17.10.3", eslint: "9.12.0", "@eslint/markdown": "6.2.1-beta.1", "<img src=x>": "not-a-version" },
  },
};

const run = (r: Report) => toSarif(r).runs[0];
const resultsOf = (r: Report) => run(r).results!;
const uriOf = (res: { locations?: { physicalLocation?: { artifactLocation?: { uri?: string } } }[] }) =>
  res.locations![0].physicalLocation!.artifactLocation!.uri;

describe("toSarif validates against the SARIF 2.1.0 schema", () => {
  test("a local repository (path with a space, messages without a rule, a delta)", () => {
    expectValid(toSarif(local));
  });

  test("a remote repository url with credentials and no baseline", () => {
    expectValid(toSarif(remote));
  });

  test("a report linted with the repository's own toolchain", () => {
    expectValid(toSarif(ownToolchain));
  });

  test("an scp-like clone address, and a log of no run", () => {
    expectValid(toSarif({ ...remote, repo: "git@github.com:owner/repo.git" }));
    expectValid(emptySarifLog());
  });
});

describe("toSarif", () => {
  test("is one run for the one commit, with its sha as revision", () => {
    const log = toSarif(local);
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0].versionControlProvenance).toEqual([expect.objectContaining({ revisionId: local.sha })]);
  });

  test("a local path becomes a file:// repositoryUri and the %SRCROOT% base", () => {
    const r = run(local);
    expect(r.versionControlProvenance![0].repositoryUri).toBe("file:///tmp/some%20repo/x");
    expect(r.originalUriBaseIds).toEqual({ "%SRCROOT%": { uri: "file:///tmp/some%20repo/x/" } });
  });

  test("repo-relative paths are percent-encoded URI references under %SRCROOT%", () => {
    const uris = resultsOf(local).map(uriOf);
    expect(uris).toContain("src/my%20file.js");
    expect(uris).toContain("lib/util%231.ts");
    expect(uris).toContain("src/old%20name.js");
    for (const res of resultsOf(local)) expect(res.locations![0].physicalLocation!.artifactLocation!.uriBaseId).toBe("%SRCROOT%");
  });

  test("a remote url keeps no credentials and no token query parameter anywhere in the log", () => {
    const json = JSON.stringify(toSarif(remote));
    expect(json).not.toMatch(/secret|abc|user@/);
    expect(run(remote).versionControlProvenance![0].repositoryUri).toBe("https://example.com/x.git");
    // Only a local checkout has a root to name.
    expect(run(remote).originalUriBaseIds).toBeUndefined();
  });

  test("an scp-like clone address becomes an ssh:// URI", () => {
    expect(run({ ...remote, repo: "git@github.com:owner/repo.git" }).versionControlProvenance![0].repositoryUri).toBe("ssh://git@github.com/owner/repo.git");
  });

  test("baselineState: new for the delta's new issues, unchanged for the others, absent for the fixed ones", () => {
    const states = Object.fromEntries(resultsOf(local).map((res) => [res.partialFingerprints!["farm/v2"], res.baselineState]));
    expect(states).toEqual({
      "fp-parse": "unchanged",
      "fp-directive": "unchanged",
      "fp-undef": "new",
      "fp-any": "unchanged",
      "fp-w033": "unchanged",
      "fp-gone": "absent",
    });
  });

  test("without a baseline (no delta) no result has a baselineState", () => {
    expect(resultsOf(remote).map((res) => res.baselineState)).toEqual([undefined]);
  });

  test("messages without a rule are named by their kind: eslint/parse-error, eslint/unused-disable-directive", () => {
    const byFp = new Map(resultsOf(local).map((res) => [res.partialFingerprints!["farm/v2"], res]));
    expect(byFp.get("fp-parse")!.ruleId).toBe("eslint/parse-error");
    expect(byFp.get("fp-parse")!.level).toBe("error");
    expect(byFp.get("fp-directive")!.ruleId).toBe("eslint/unused-disable-directive");
    expect(byFp.get("fp-directive")!.level).toBe("warning");
    expect(byFp.get("fp-undef")!.ruleId).toBe("eslint/no-undef");
    expect(byFp.get("fp-gone")!.ruleId).toBe("eslint/no-debugger");
  });

  test("every result's rule is described once, with the docs of ESLint and typescript-eslint rules", () => {
    const rules = run(local).tool.driver.rules!;
    expect(rules.map((r) => r.id).sort()).toEqual(
      [
        "eslint/@typescript-eslint/no-explicit-any",
        "eslint/no-debugger",
        "eslint/no-undef",
        "eslint/parse-error",
        "eslint/unused-disable-directive",
        "jshint/W033",
      ].sort(),
    );
    const help = Object.fromEntries(rules.map((r) => [r.id, r.helpUri]));
    expect(help["eslint/no-undef"]).toBe("https://eslint.org/docs/latest/rules/no-undef");
    expect(help["eslint/@typescript-eslint/no-explicit-any"]).toBe("https://typescript-eslint.io/rules/no-explicit-any");
    expect(help["eslint/parse-error"]).toBeUndefined();
    expect(help["jshint/W033"]).toBeUndefined();
    for (const r of rules) expect(r.shortDescription!.text.length).toBeGreaterThan(0);
  });

  test("the driver is farm with no placeholder informationUri; each linter is an extension with its home", () => {
    const tool = toSarif(local, { toolVersion: "9.9.9" }).runs[0].tool;
    expect(tool.driver).toMatchObject({ name: "farm", version: "9.9.9" });
    expect(tool.driver.informationUri).toBeUndefined();
    expect(tool.extensions).toEqual([
      { name: "eslint", version: "10.15.0", informationUri: "https://eslint.org" },
      { name: "jshint", version: "2.13.6", informationUri: "https://jshint.com" },
    ]);
  });
});

describe("toSarif of a commit linted with its own toolchain", () => {
  test("the driver is ESLint at the toolchain's version, with its home and the rules", () => {
    const { driver } = toSarif(ownToolchain, { toolVersion: "9.9.9" }).runs[0].tool;
    expect(driver).toMatchObject({ name: "ESLint", version: "9.12.0", semanticVersion: "9.12.0", informationUri: "https://eslint.org" });
    expect(driver.rules!.map((r) => r.id)).toContain("eslint/no-undef");
  });

  test("each other package is an extension, then the other linters farm ran, then farm; a version that is not SemVer has no semanticVersion", () => {
    const { extensions } = toSarif(ownToolchain, { toolVersion: "9.9.9" }).runs[0].tool;
    expect(extensions).toEqual([
      { name: "eslint-plugin-n", version: "17.10.3", semanticVersion: "17.10.3" },
      { name: "@eslint/markdown", version: "6.2.1-beta.1", semanticVersion: "6.2.1-beta.1" },
      { name: "<img src=x>", version: "not-a-version" },
      // farm's bundled ESLint did not run: only jshint of the report's linters is left.
      { name: "jshint", version: "2.13.6", informationUri: "https://jshint.com" },
      { name: "farm", version: "9.9.9" },
    ]);
  });

  test("only the tool differs from the same report read as data", () => {
    const withOwn = run(ownToolchain);
    const asData = run(local);
    expect(withOwn.tool).not.toEqual(asData.tool);
    expect({ ...withOwn, tool: null }).toEqual({ ...asData, tool: null });
  });
});

describe("withoutCredentials", () => {
  test("drops userinfo and secret-looking query parameters, keeps the rest", () => {
    expect(withoutCredentials("https://ghp_token@github.com/o/r.git")).toBe("https://github.com/o/r.git");
    expect(withoutCredentials("https://h/x.git?private_token=t&ref=main")).toBe("https://h/x.git?ref=main");
    expect(withoutCredentials("ssh://git:pw@h/x.git")).toBe("ssh://git@h/x.git");
  });
});
