/** Output formats of reports: a table for people, JSON and SARIF for tools. */
import { once } from "node:events";
import type { Writable } from "node:stream";
import { toSarif, type Report } from "../shared/report.js";

export type OutputFormat = "table" | "json" | "sarif";

export function renderReports(reports: Report[], format: OutputFormat): string {
  if (format === "json") return JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + "\n";
  if (format === "sarif") return JSON.stringify(toSarif(reports), null, 2) + "\n";
  return renderTable(reports);
}

/**
 * Writes `count` reports to `out` as they arrive, in order, with the same text
 * renderReports makes. JSON is written report by report and the table keeps one
 * row and the rule counts per report, so a long history is never held whole
 * (SARIF is one log object: it keeps the reports).
 */
export async function writeReports(reports: AsyncIterable<Report>, count: number, format: OutputFormat, out: Writable): Promise<void> {
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, "drain");
  };
  if (format === "json") {
    if (count !== 1) await write("[");
    let i = 0;
    for await (const r of reports) {
      const text = JSON.stringify(r, null, 2);
      // Indented as an element of JSON.stringify(reports, null, 2).
      await write(count === 1 ? text : `${i++ ? "," : ""}\n  ${text.replaceAll("\n", "\n  ")}`);
    }
    await write(count === 1 ? "\n" : count === 0 ? "]\n" : "\n]\n");
    return;
  }
  if (format === "sarif") {
    const all: Report[] = [];
    for await (const r of reports) all.push(r);
    return write(renderReports(all, "sarif"));
  }
  const rows: string[][] = [];
  const rules = new Map<string, number>();
  for await (const r of reports) {
    rows.push(tableRow(r));
    countRules(r, rules);
  }
  await write(tableText(rows, topOf(rules, 10)));
}

function pad(cells: string[], widths: number[], right: boolean[]): string {
  return cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
}

function table(head: string[], rows: string[][], right: boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [pad(head, widths, right), pad(widths.map((w) => "-".repeat(w)), widths, right), ...rows.map((r) => pad(r, widths, right))].join("\n");
}

export function renderTable(reports: Report[]): string {
  return tableText(reports.map(tableRow), topRules(reports, 10));
}

function tableRow(r: Report): string[] {
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

function tableText(rows: string[][], rules: [string, number][]): string {
  const right = [false, false, true, true, true, true, true, false];
  let out = table(["commit", "date", "files", "errors", "warnings", "new", "fixed", "subject"], rows, right) + "\n";
  if (rules.length > 0) {
    out += "\nTop rules (across these commits)\n";
    out += table(["rule", "count"], rules.map(([rule, n]) => [rule, String(n)]), [false, true]) + "\n";
  }
  return out;
}

export function topRules(reports: Report[], n: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of reports) countRules(r, counts);
  return topOf(counts, n);
}

function countRules(r: Report, counts: Map<string, number>) {
  for (const f of r.files)
    for (const m of f.messages) {
      const rule = `${m.linter}/${m.ruleId ?? "parse-error"}`;
      counts.set(rule, (counts.get(rule) ?? 0) + 1);
    }
}

function topOf(counts: Map<string, number>, n: number): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}
