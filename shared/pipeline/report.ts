/**
 * The report model: per-file results, per-commit reports, the delta against
 * the parent (by fingerprints that survive lines moving, reformatting and
 * renames; tracking.ts pairs them). SARIF is in sarif.ts.
 */
import { hash } from "node:crypto";
import type { LintMessage as EngineMessage } from "../lint/types.js";
import type { Gate } from "./gate.js";
import { statementContexts } from "./statements.js";

/** A report message: the engine's, or farm's own ("farm" when a file could not be linted). */
export interface LintMessage extends Omit<EngineMessage, "linter" | "fatal"> {
  linter: EngineMessage["linter"] | "farm";
  fatal?: boolean;
  /** For a message without a rule: what kind it is (see ruleName); set in assembled reports. */
  kind?: string;
  /** Identity across commits (see fingerprints); set in assembled reports. */
  fingerprint?: string;
}

/** What names a message or a delta entry. */
export interface Namable {
  linter: string;
  ruleId: string | null;
  fatal?: boolean;
  message: string;
}

/**
 * The name a message is counted and fingerprinted under: its rule, or for the
 * messages linters give without one, what kind of message it is. Only a fatal
 * message whose text says so is a parse error; a lint thread's crash or time
 * limit is "fatal", and ESLint's directive reports have names of their own.
 */
export function ruleName(m: Namable): string {
  if (m.ruleId) return m.ruleId;
  if (m.linter === "farm") return "unlintable";
  if (m.fatal) return /^Parsing error\b/.test(m.message) ? "parse-error" : "fatal";
  if (/^Unused eslint-disable directive/.test(m.message)) return "unused-disable-directive";
  if (/^Unused eslint-enable directive/.test(m.message)) return "unused-enable-directive";
  return "directive";
}

/** The "linter/rule" id of a message in tables and SARIF. */
export function qualifiedRule(m: Namable): string {
  return `${m.linter}/${ruleName(m)}`;
}

/** A message as cached: plus hashes of its statement's normalised tokens (statements.ts) and of its line's text, for tracking. */
export interface CachedMessage extends LintMessage {
  context: string;
  lineHash: string;
}

/**
 * What a cached result holds, part of every toolchain settings id (and of
 * data-only config ids through ENGINE_CONFIG_VERSION): results cached by an
 * older farm, with other fingerprint inputs, are linted again, not mixed in.
 */
export const RESULT_FORMAT = 2;

/** The content-addressed result of one (blob, config): linted, or skipped by content. */
export interface FileResult {
  messages: CachedMessage[];
  /** Set when the content is not lintable (binary, minified): the file leaves the report. */
  skipped?: "binary" | "minified";
}

export interface Summary {
  files: number;
  errors: number;
  warnings: number;
}

export interface DeltaEntry {
  path: string;
  linter: string;
  ruleId: string | null;
  /** For an entry without a rule: what kind of message it is (see ruleName). */
  kind?: string;
  fatal?: boolean;
  severity: 1 | 2;
  line: number;
  column: number;
  message: string;
  fingerprint: string;
}

/** A path renamed or copied from the parent, as git sees it (`git diff -M`, `-C`). */
export interface FileMove {
  from: string;
  to: string;
  /** The source is still there (or another path followed it): its issues stay with it too. */
  copy?: true;
}

/** An issue tracked from the parent under another fingerprint (its statement was edited) or path. */
export interface CarriedEntry {
  path: string;
  fingerprint: string;
  from: { path: string; fingerprint: string };
}

export interface Delta {
  new: DeltaEntry[];
  fixed: DeltaEntry[];
  /** Files whose issues were followed from another path (absent when none). */
  moved?: FileMove[];
  /** Issues kept whose fingerprint changed on the way (absent when none); a move alone keeps the fingerprint. */
  carried?: CarriedEntry[];
}

export interface ReportFile {
  path: string;
  blob: string;
  messages: LintMessage[];
}

/** The public report (docs/contract.md: `report.get`; docs/ARCHITECTURE.md for how it is assembled). */
export interface Report {
  repo: string;
  sha: string;
  parent: string | null;
  /** Author date (ISO) and subject line of the commit. */
  date?: string;
  subject?: string;
  linters: Record<string, string>;
  summary: Summary;
  files: ReportFile[];
  /** Null when the commit has no parent, or its parent could not be analyzed (no baseline). */
  delta: Delta | null;
  /** What farm could not honour in the commit's configuration, once each (absent when nothing). */
  notes?: string[];
  /** The repository's own lint toolchain the commit was linted with; absent when its config was read as data. */
  toolchain?: ReportToolchain;
  /** The quality gate the commit's `.farm.json` sets for its check run; absent when it sets none (the operator's applies). */
  gate?: Gate;
}

/** A commit's own lint toolchain as it ran (shared/toolchain/): what a reader needs to trust its numbers. */
export interface ReportToolchain {
  /** Content-addressed id (ToolchainSpec.id): commits with the same id ran the same packages. */
  id: string;
  /** The config file ESLint loaded (`eslint.config.cjs`, `.eslintrc.yml`, `package.json`). */
  configFile: string | null;
  format: "flat" | "eslintrc" | null;
  /** ESLint's version as the sandbox loaded it. */
  eslint: string;
  /** Installed top-level packages, name → exact version (eslint included). */
  packages: Record<string, string>;
}

/**
 * A commit's report without its files: what a history needs (summary, delta,
 * rule counts), cheap to read for thousands of commits (`report.get` with
 * `view: "summary"`). The full report is fetched only when asked for.
 */
export interface ReportSummary extends Omit<Report, "files"> {
  /** Messages per "linter/rule" (qualifiedRule) across the commit's files. */
  rules: Record<string, number>;
}

/** Messages per "linter/rule" of a set of files. */
export function countRules(files: { messages: Namable[] }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of files)
    for (const m of f.messages) {
      const rule = qualifiedRule(m);
      counts[rule] = (counts[rule] ?? 0) + 1;
    }
  return counts;
}

/** Adds each message's statement context and line hash, from the file's content. */
export function withContexts(messages: LintMessage[], content: string): CachedMessage[] {
  if (messages.length === 0) return [];
  const contexts = statementContexts(content, messages);
  const lines = content.split(/\r?\n/);
  // Object.assign, not a spread: V8 (Node 20) gives each `{ ...m, more }` a hidden class of its own, about
  // 500 bytes per cached message; these copies share one.
  return messages.map((m, i) => Object.assign({}, m, { context: contexts[i], lineHash: hashLine(lines[m.line - 1]) }));
}

/** A line's text without its whitespace, hashed. */
function hashLine(text: string | undefined): string {
  return hash("sha256", (text ?? "").replace(/\s+/g, " ").trim(), "hex").slice(0, 16);
}

/** The result shown for a file whose lint work was given up (see the dead-letter stream for why). */
export function unlintableResult(reason: string): FileResult {
  return {
    messages: [
      {
        linter: "farm",
        ruleId: null,
        severity: 2,
        line: 1,
        column: 1,
        message: `farm could not lint this file: ${reason}`,
        fatal: true,
        context: "",
        lineHash: "",
      },
    ],
  };
}

function withoutContext(m: CachedMessage): LintMessage {
  const out: Partial<CachedMessage> = { ...m };
  delete out.context;
  delete out.lineHash;
  return out as LintMessage;
}

export function summarize(files: { messages: LintMessage[] }[]): Summary {
  let errors = 0;
  let warnings = 0;
  for (const f of files)
    for (const m of f.messages) {
      if (m.severity === 2) errors++;
      else warnings++;
    }
  return { files: files.length, errors, warnings };
}

export interface FileMessages {
  path: string;
  blob: string;
  /** The effective config the messages came from: a changed config changes the messages of an unchanged blob. */
  configId?: string;
  messages: CachedMessage[];
}

/**
 * Fingerprint = linter + rule + statement context + occurrence in the file.
 * Not the path and not the physical line: an issue keeps its fingerprint when
 * lines above it move, when its statement is reformatted and when its file is
 * renamed. Unique within a file; another file may hold the same one (a
 * reader names issues by path and fingerprint).
 */
export function fingerprints(file: FileMessages): { message: CachedMessage; entry: DeltaEntry; fingerprint: string }[] {
  const seen = new Map<string, number>();
  const sorted = [...file.messages].sort((a, b) => a.line - b.line || a.column - b.column);
  return sorted.map((m) => {
    const base = `${m.linter}\0${ruleName(m)}\0${m.context}`;
    const occurrence = seen.get(base) ?? 0;
    seen.set(base, occurrence + 1);
    // One-shot: no Hash object per message (half the time of createHash().update().digest()).
    const fingerprint = hash("sha256", `${base}\0${occurrence}`, "hex").slice(0, 24);
    const entry: DeltaEntry = {
      path: file.path,
      linter: m.linter,
      ruleId: m.ruleId,
      ...ruleless(m),
      severity: m.severity,
      line: m.line,
      column: m.column,
      message: m.message,
      fingerprint,
    };
    return { message: m, entry, fingerprint };
  });
}

/** An issue's name within a report: fingerprints are unique within a file, not across files. */
export function issueKey(path: string, fingerprint: string | undefined): string {
  return `${path}\0${fingerprint ?? ""}`;
}

/** The report's new issues, by issueKey. */
export function newIssueKeys(report: Pick<Report, "delta">): Set<string> {
  return new Set(report.delta?.new.map((e) => issueKey(e.path, e.fingerprint)));
}

/** A file's messages as the public report shows them: fingerprinted, without cache internals. */
export function publicMessages(file: FileMessages): LintMessage[] {
  const fp = new Map(fingerprints(file).map((x) => [x.message, x.fingerprint]));
  return file.messages.map((m) => ({ ...withoutContext(m), ...ruleless(m), fingerprint: fp.get(m) }));
}

/** What a message without a rule adds to the public report: its kind, and fatal when it is. */
function ruleless(m: LintMessage): { kind?: string; fatal?: boolean } {
  if (m.ruleId) return {};
  return { kind: ruleName(m), ...(m.fatal ? { fatal: true } : {}) };
}
