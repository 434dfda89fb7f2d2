/** Output formats of reports: a table for people; JSON, NDJSON and SARIF for tools. */
import type { Writable } from "node:stream";
import { countRules, issueKey, newIssueKeys, qualifiedRule, type DeltaEntry, type Report, type ReportSummary } from "../shared/pipeline/report.js";
import { ReportJson } from "../shared/pipeline/report-client.js";
import { emptySarifLog, toSarif } from "../shared/pipeline/sarif.js";
import { writerTo } from "./output.js";
import { ToolchainTally } from "./toolchain-line.js";

export type OutputFormat = "table" | "json" | "ndjson" | "sarif";

export interface RenderOptions {
  format: OutputFormat;
  /** json, ndjson: per commit only what the history needs (summary and delta, no files). Default false. */
  summary?: boolean;
  /** table of a history: each commit's new issues under the table. One commit always lists its issues. Default false. */
  details?: boolean;
}

/** A commit as the CLI gets it: the whole report, or (for a history) its summary view. */
export type AnyReport = Report | ReportSummary;

const isFull = (r: AnyReport): r is Report => "files" in r;

/** The summary form of a commit (`--summary`): without its files. */
export function summaryOf(r: AnyReport): ReportSummary {
  if (!isFull(r)) return r;
  const { files, ...rest } = r;
  return { ...rest, rules: countRules(files) };
}

/** What `reports` (newest first) print as, all at once. */
export function renderReports(reports: AnyReport[], opts: RenderOptions): string {
  const w = new ReportWriter(reports.length, opts);
  return w.head() + reports.map((r) => w.add(r)).join("") + w.end();
}

/**
 * Writes `count` reports to `out` as they arrive, in order, with the same text
 * renderReports makes. JSON and NDJSON are written report by report, the table
 * keeps one row, the rule counts and (with details) the new issues per report,
 * so a long history is never held whole. SARIF is the newest (requested) commit.
 * A report given as its JSON (ReportJson) must be the answer to the view
 * printed (`--summary`: the summary view).
 */
export async function writeReports(reports: AsyncIterable<AnyReport | ReportJson>, count: number, opts: RenderOptions, out: Writable): Promise<void> {
  const write = writerTo(out);
  const w = new ReportWriter(count, opts);
  await write(w.head());
  for await (const r of reports) {
    // An answer unparsed is the JSON of what NDJSON prints (the caller asked for the view it prints): written as it came.
    if (r instanceof ReportJson && opts.format === "ndjson") {
      await write(r.bytes);
      await write("\n");
      continue;
    }
    const text = w.add(r instanceof ReportJson ? r.parse<AnyReport>() : r);
    if (text) await write(text);
  }
  await write(w.end());
}

/** The text of a list of reports, cut where each report arrives. */
class ReportWriter {
  private added = 0;
  private readonly rows: string[][] = [];
  private readonly rules = new Map<string, number>();
  private readonly newIssues: { report: AnyReport; entries: DeltaEntry[] }[] = [];
  /** Each distinct note of the commits, with how many commits it was on. */
  private readonly notes = new Map<string, number>();
  /** Each distinct toolchain the commits were linted with. */
  private readonly toolchains = new ToolchainTally();
  private only?: AnyReport;

  constructor(
    private readonly count: number,
    private readonly opts: RenderOptions,
  ) {}

  head(): string {
    return this.opts.format === "json" && this.count !== 1 ? "[" : "";
  }

  add(r: AnyReport): string {
    const i = this.added++;
    const { format } = this.opts;
    const shown = this.opts.summary ? summaryOf(r) : r;
    if (format === "ndjson") return JSON.stringify(shown) + "\n";
    if (format === "json") {
      const text = JSON.stringify(shown, null, 2);
      // Indented as an element of JSON.stringify(reports, null, 2).
      return this.count === 1 ? text : `${i ? "," : ""}\n  ${text.replaceAll("\n", "\n  ")}`;
    }
    if (format === "sarif") {
      if (i === 0) this.only = r;
      return "";
    }
    this.rows.push(tableRow(r));
    for (const [rule, n] of Object.entries(isFull(r) ? countRules(r.files) : r.rules)) this.rules.set(rule, (this.rules.get(rule) ?? 0) + n);
    for (const note of new Set(r.notes)) this.notes.set(note, (this.notes.get(note) ?? 0) + 1);
    this.toolchains.add(r.toolchain);
    if (this.count === 1) this.only = r;
    else if (this.opts.details && r.delta?.new.length) this.newIssues.push({ report: r, entries: r.delta.new });
    return "";
  }

  end(): string {
    const { format } = this.opts;
    if (format === "ndjson") return "";
    if (format === "json") return this.count === 1 ? "\n" : this.count === 0 ? "]\n" : "\n]\n";
    if (format === "sarif") return JSON.stringify(this.only && isFull(this.only) ? toSarif(this.only) : emptySarifLog(), null, 2) + "\n";
    let out = tableText(this.rows, this.toolchains.lines(this.count), topOf(this.rules, 10));
    if (this.only && isFull(this.only)) out += "\n" + commitIssues(this.only);
    if (this.notes.size > 0) out += "\n" + notesText(this.notes, this.count);
    for (const { report, entries } of this.newIssues) {
      out += `\n${report.sha.slice(0, 10)}  ${(report.subject ?? "").slice(0, 60)}: ${entries.length} new\n`;
      out += stylish(entries.map((e) => ({ ...e, isNew: true })));
    }
    return out;
  }
}

function pad(cells: string[], widths: number[], right: boolean[]): string {
  return cells
    .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
    .join("  ")
    .trimEnd();
}

function table(head: string[], rows: string[][], right: boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [
    pad(head, widths, right),
    pad(
      widths.map((w) => "-".repeat(w)),
      widths,
      right,
    ),
    ...rows.map((r) => pad(r, widths, right)),
  ].join("\n");
}

function tableRow(r: AnyReport): string[] {
  return [
    r.sha.slice(0, 10),
    (r.date ?? "").slice(0, 10),
    String(r.summary.files),
    String(r.summary.errors),
    String(r.summary.warnings),
    r.delta ? String(r.delta.new.length) : "-",
    r.delta ? String(r.delta.fixed.length) : "-",
    (r.subject ?? "").slice(0, 50),
  ];
}

/** The commits' table, the toolchains they ran right under it, then the top rules. */
function tableText(rows: string[][], toolchains: string, rules: [string, number][]): string {
  const right = [false, false, true, true, true, true, true, false];
  let out = table(["commit", "date", "files", "errors", "warnings", "new", "fixed", "subject"], rows, right) + "\n" + toolchains;
  if (rules.length > 0) {
    out += "\nTop rules (across these commits)\n";
    out +=
      table(
        ["rule", "count"],
        rules.map(([rule, n]) => [rule, String(n)]),
        [false, true],
      ) + "\n";
  }
  return out;
}

/** What farm could not honour of the repositories' configuration: each note once, with its commits when a history has it on some. */
function notesText(notes: Map<string, number>, commits: number): string {
  const lines = [...notes].map(([note, n]) => `  ${note}${commits > 1 ? ` (${n === commits ? "every commit" : `${n} of ${commits} commits`})` : ""}`);
  return `Notes\n${lines.join("\n")}\n`;
}

function topOf(counts: Map<string, number>, n: number): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}

type Issue = Pick<DeltaEntry, "path" | "linter" | "ruleId" | "kind" | "fatal" | "severity" | "line" | "column" | "message"> & { isNew: boolean };

/** Every issue of one commit, where it is, the new ones marked. */
function commitIssues(r: Report): string {
  const fresh = newIssueKeys(r);
  const issues = r.files.flatMap((f) => f.messages.map((m) => ({ ...m, path: f.path, isNew: fresh.has(issueKey(f.path, m.fingerprint)) })));
  return stylish(issues);
}

/** Issues grouped by file the way ESLint's stylish formatter prints them, plus a "new" mark. */
export function stylish(issues: Issue[]): string {
  if (issues.length === 0) return "no issues\n";
  const byFile = new Map<string, Issue[]>();
  for (const i of issues) byFile.set(i.path, [...(byFile.get(i.path) ?? []), i]);
  let out = "";
  for (const [file, list] of [...byFile].sort((a, b) => a[0].localeCompare(b[0]))) {
    list.sort((a, b) => a.line - b.line || a.column - b.column);
    const rows = list.map((i) => [
      `${i.line}:${i.column}`,
      i.severity === 2 ? "error" : "warning",
      i.message.replace(/\s+/g, " "),
      qualifiedRule(i),
      i.isNew ? "new" : "",
    ]);
    const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length)));
    out += `${file}\n${rows.map((r) => `  ${r.map((c, k) => (k < 4 ? c.padEnd(widths[k]) : c)).join("  ")}`.trimEnd()).join("\n")}\n\n`;
  }
  const errors = issues.filter((i) => i.severity === 2).length;
  const warnings = issues.length - errors;
  const fresh = issues.filter((i) => i.isNew).length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return out + `${plural(issues.length, "problem")} (${plural(errors, "error")}, ${plural(warnings, "warning")}), ${fresh} new\n`;
}
