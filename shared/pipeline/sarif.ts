/**
 * SARIF 2.1.0 of one commit, as a code-scanning upload expects it: one run,
 * its results marked new/unchanged against the parent and the parent's fixed
 * issues as absent. A history is one log per commit (each from toSarif), never
 * one run per commit in one log: that would repeat every unchanged issue.
 */
import { pathToFileURL } from "node:url";
import type * as Sarif from "sarif";
import { withoutCredentials } from "../git/credentials.js";
import { issueKey, newIssueKeys, ruleName, qualifiedRule, type DeltaEntry, type LintMessage, type Report, type ReportToolchain } from "./report.js";

export type SarifLog = Sarif.Log;

export interface SarifOptions {
  /** farm's version, in `tool.driver.version`. Default "0.1.0" (the CLI's). */
  toolVersion?: string;
}

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
/** Results' paths are relative to the repository root, which this base names. */
const SRCROOT = "%SRCROOT%";

const LINTER_HOMES: Record<string, string> = { eslint: "https://eslint.org", jshint: "https://jshint.com" };

/** What the messages linters give without a rule are, for rules[].shortDescription. */
const KIND_TEXT: Record<string, string> = {
  "parse-error": "The file could not be parsed",
  fatal: "The linter could not finish the file",
  unlintable: "farm could not lint the file",
  "unused-disable-directive": "An eslint-disable directive that suppresses nothing",
  "unused-enable-directive": "An eslint-enable directive that enables nothing",
  directive: "A problem with an inline linter directive",
};

type Finding = Pick<LintMessage, "linter" | "ruleId" | "fatal" | "message" | "severity" | "line" | "column" | "endLine" | "endColumn">;

/** One log with one run for `report`'s commit; `baselineState` only when the report has a delta. */
export function toSarif(report: Report, opts: SarifOptions = {}): SarifLog {
  return { $schema: SARIF_SCHEMA, version: "2.1.0", runs: [sarifRun(report, opts.toolVersion ?? "0.1.0")] };
}

/** A valid log of no run: what is written when there is no report at all. */
export function emptySarifLog(): SarifLog {
  return { $schema: SARIF_SCHEMA, version: "2.1.0", runs: [] };
}

function sarifRun(report: Report, toolVersion: string): Sarif.Run {
  const fresh = newIssueKeys(report);
  const rules = new Map<string, Sarif.ReportingDescriptor>();
  const results: Sarif.Result[] = [];
  const add = (m: Finding, path: string, fingerprint: string | undefined, baselineState: Sarif.Result.baselineState | undefined) => {
    const id = qualifiedRule(m);
    if (!rules.has(id)) rules.set(id, ruleDescriptor(id, m));
    results.push(sarifResult(id, m, path, fingerprint, baselineState));
  };
  for (const file of report.files)
    for (const m of file.messages)
      add(m, file.path, m.fingerprint, report.delta ? (fresh.has(issueKey(file.path, m.fingerprint)) ? "new" : "unchanged") : undefined);
  for (const e of report.delta?.fixed ?? []) add(fromEntry(e), e.path, e.fingerprint, "absent");

  const repositoryUri = repositoryUriOf(report.repo);
  // Only a local checkout has a root that means something on the reader's side; a base's uri must end in "/".
  const root = report.repo.startsWith("/") ? { [SRCROOT]: { uri: pathToFileURL(report.repo.replace(/\/*$/, "/")).href } } : undefined;
  return {
    tool: report.toolchain ? toolchainTool(report, report.toolchain, toolVersion, [...rules.values()]) : farmTool(report, toolVersion, [...rules.values()]),
    ...(repositoryUri ? { versionControlProvenance: [{ repositoryUri, revisionId: report.sha, mappedTo: { uriBaseId: SRCROOT } }] } : {}),
    ...(root ? { originalUriBaseIds: root } : {}),
    properties: { parent: report.parent },
    results,
  };
}

/** Configs read as data: farm is the tool, each bundled linter an extension. */
function farmTool(report: Report, toolVersion: string, rules: Sarif.ReportingDescriptor[]): Sarif.Tool {
  return {
    driver: { name: "farm", version: toolVersion, rules },
    extensions: Object.entries(report.linters).map(([name, version]) => linterComponent(name, version)),
  };
}

function linterComponent(name: string, version: string): Sarif.ToolComponent {
  return { name, version, ...(LINTER_HOMES[name] ? { informationUri: LINTER_HOMES[name] } : {}) };
}

/** What farm bundles to lint configs read as data: not run when the commit's own toolchain is. */
const BUNDLED_ESLINT = new Set(["eslint", "typescript-eslint"]);

/**
 * The commit's own toolchain ran: its ESLint is the tool, each other package it
 * installed an extension; then any other linter farm ran (jshint), and farm,
 * whose `farm/unlintable` results and fingerprints the log carries too.
 */
function toolchainTool(report: Report, t: ReportToolchain, toolVersion: string, rules: Sarif.ReportingDescriptor[]): Sarif.Tool {
  const packages = Object.entries(t.packages).filter(([name]) => name !== "eslint");
  const others = Object.entries(report.linters).filter(([name]) => !BUNDLED_ESLINT.has(name));
  return {
    driver: { name: "ESLint", ...versions(t.eslint), informationUri: LINTER_HOMES.eslint, rules },
    extensions: [
      ...packages.map(([name, version]) => ({ name, ...versions(version) })),
      ...others.map(([name, version]) => linterComponent(name, version)),
      { name: "farm", version: toolVersion },
    ],
  };
}

/** SemVer 2.0.0's grammar (semver.org), anchored: `semanticVersion` must be one; `version` may be any string. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** A toolComponent's version, and its semanticVersion when it is one (npm's versions are). */
function versions(version: string): { version: string; semanticVersion?: string } {
  return SEMVER.test(version) ? { version, semanticVersion: version } : { version };
}

/** A delta entry as a finding: its linter name is a plain string in the report. */
function fromEntry(e: DeltaEntry): Finding {
  return { ...e, linter: e.linter as LintMessage["linter"] };
}

function ruleDescriptor(id: string, m: Finding): Sarif.ReportingDescriptor {
  const name = ruleName(m);
  const helpUri = m.ruleId ? ruleHelpUri(m.linter, m.ruleId) : undefined;
  return { id, shortDescription: { text: m.ruleId ? name : (KIND_TEXT[name] ?? name) }, ...(helpUri ? { helpUri } : {}) };
}

/** Documentation of the rules whose home is known: ESLint's core rules and typescript-eslint's. */
function ruleHelpUri(linter: string, ruleId: string): string | undefined {
  if (linter !== "eslint") return undefined;
  if (!ruleId.includes("/")) return `https://eslint.org/docs/latest/rules/${encodeURIComponent(ruleId)}`;
  const ts = /^@typescript-eslint\/([^/]+)$/.exec(ruleId);
  return ts ? `https://typescript-eslint.io/rules/${encodeURIComponent(ts[1])}` : undefined;
}

function sarifResult(
  ruleId: string,
  m: Finding,
  path: string,
  fingerprint: string | undefined,
  baselineState: Sarif.Result.baselineState | undefined,
): Sarif.Result {
  const region: Sarif.Region = { startLine: Math.max(1, m.line), startColumn: Math.max(1, m.column) };
  if (m.endLine) region.endLine = Math.max(region.startLine!, m.endLine);
  if (m.endColumn) region.endColumn = m.endColumn;
  return {
    ruleId,
    level: m.severity === 2 ? "error" : "warning",
    message: { text: m.message },
    locations: [{ physicalLocation: { artifactLocation: { uri: relativeUri(path), uriBaseId: SRCROOT }, region } }],
    ...(fingerprint ? { partialFingerprints: { "farm/v2": fingerprint } } : {}),
    ...(baselineState ? { baselineState } : {}),
  };
}

/** A repo-relative path as a URI reference: each segment escaped, so spaces, "%", "#" or a ":" stay path. */
function relativeUri(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/**
 * The repository as an absolute URI without credentials: a local path as
 * file:///…, scp-like `user@host:path` as ssh://, a url without its secrets.
 * Undefined when the repo is none of these (the provenance is then left out:
 * it is optional, and a non-URI makes the log invalid).
 */
function repositoryUriOf(repo: string): string | undefined {
  if (repo.startsWith("/")) return pathToFileURL(repo).href;
  // Like git: a colon before any slash and not followed by "//" is scp-like syntax, not a scheme.
  const scp = /^([\w.-]+@)?([\w.-]+):(?!\/\/)(.*)$/.exec(repo);
  if (scp) {
    const [, user = "", host, path] = scp;
    return withoutCredentials(`ssh://${user}${host}/${path.replace(/^\/+/, "")}`);
  }
  try {
    return withoutCredentials(repo);
  } catch {
    // Not a url SARIF can carry: leave the location out rather than guess.
    return undefined;
  }
}

export { withoutCredentials };
