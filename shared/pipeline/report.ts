/**
 * The report model: per-file results, per-commit reports, the delta against
 * the parent (by fingerprints that survive lines moving). SARIF is in sarif.ts.
 */
import { createHash } from "node:crypto";
import type { LintMessage as EngineMessage } from "../lint/types.js";

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

/** A message as cached: plus a hash of its normalized source line, for fingerprints. */
export interface CachedMessage extends LintMessage {
  lineHash: string;
}

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

export interface Delta {
  new: DeltaEntry[];
  fixed: DeltaEntry[];
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

export function hashLine(text: string | undefined): string {
  const normalized = (text ?? "").replace(/\s+/g, " ").trim();
  return createHash("sha256").update(normalized).digest("hex").slice(0, 16);
}

/** Adds line hashes to a file's messages, from the file's content. */
export function withLineHashes(messages: LintMessage[], content: string): CachedMessage[] {
  const lines = content.split(/\r?\n/);
  return messages.map((m) => ({ ...m, lineHash: hashLine(lines[m.line - 1]) }));
}

/** The result shown for a file whose lint work was given up (see the dead-letter stream for why). */
export function unlintableResult(reason: string): FileResult {
  return {
    messages: [
      { linter: "farm", ruleId: null, severity: 2, line: 1, column: 1, message: `farm could not lint this file: ${reason}`, fatal: true, lineHash: "" },
    ],
  };
}

export function stripCached(messages: CachedMessage[]): LintMessage[] {
  return messages.map(withoutLineHash);
}

function withoutLineHash(m: CachedMessage): LintMessage {
  const out: Partial<CachedMessage> = { ...m };
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
 * Fingerprint = rule + path + normalized line text + occurrence, so an issue
 * keeps its identity when lines above it move.
 */
export function fingerprints(file: FileMessages): { message: CachedMessage; entry: DeltaEntry; fingerprint: string }[] {
  const seen = new Map<string, number>();
  const sorted = [...file.messages].sort((a, b) => a.line - b.line || a.column - b.column);
  return sorted.map((m) => {
    const base = `${file.path}\0${m.linter}\0${ruleName(m)}\0${m.lineHash}`;
    const occurrence = seen.get(base) ?? 0;
    seen.set(base, occurrence + 1);
    const fingerprint = createHash("sha256").update(`${base}\0${occurrence}`).digest("hex").slice(0, 24);
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

/** A file's messages as the public report shows them: fingerprinted, without cache internals. */
export function publicMessages(file: FileMessages): LintMessage[] {
  const fp = new Map(fingerprints(file).map((x) => [x.message, x.fingerprint]));
  return file.messages.map((m) => ({ ...withoutLineHash(m), ...ruleless(m), fingerprint: fp.get(m) }));
}

/** What a message without a rule adds to the public report: its kind, and fatal when it is. */
function ruleless(m: LintMessage): { kind?: string; fatal?: boolean } {
  if (m.ruleId) return {};
  return { kind: ruleName(m), ...(m.fatal ? { fatal: true } : {}) };
}

/** A file as the delta compares it: by path, blob and config. */
interface Versioned {
  path: string;
  blob: string;
  configId?: string;
}

/**
 * The files of `current` and of `parent` that are not the same (path, blob,
 * config) on the other side: only they can hold new or fixed issues.
 */
export function changedFiles<F extends Versioned>(current: readonly F[], parent: readonly F[]): { now: F[]; before: F[] } {
  const parentByPath = new Map(parent.map((f) => [f.path, f]));
  const currentByPath = new Map(current.map((f) => [f.path, f]));
  const same = (a: F, b: F | undefined) => b !== undefined && a.blob === b.blob && a.configId === b.configId;
  return { now: current.filter((f) => !same(f, parentByPath.get(f.path))), before: parent.filter((f) => !same(f, currentByPath.get(f.path))) };
}

/**
 * New and fixed issues of `current` against `parent`. Unchanged files (same
 * path, same blob, same config) are skipped; a file whose config changed (a
 * rule turned on in `.farm.json`) is compared like an edited one.
 */
export function computeDelta(current: FileMessages[], parent: FileMessages[]): Delta {
  const { now: changedNow, before: changedBefore } = changedFiles(current, parent);
  const now = new Map(changedNow.flatMap(fingerprints).map((x) => [x.fingerprint, x.entry]));
  const before = new Map(changedBefore.flatMap(fingerprints).map((x) => [x.fingerprint, x.entry]));
  const byPlace = (a: DeltaEntry, b: DeltaEntry) => a.path.localeCompare(b.path) || a.line - b.line || a.column - b.column;
  return {
    new: [...now]
      .filter(([fp]) => !before.has(fp))
      .map(([, e]) => e)
      .sort(byPlace),
    fixed: [...before]
      .filter(([fp]) => !now.has(fp))
      .map(([, e]) => e)
      .sort(byPlace),
  };
}
