/** Output formats of reports: a table for people, JSON and SARIF for tools. */
import { toSarif, type Report } from "../shared/report.js";

export type OutputFormat = "table" | "json" | "sarif";

export function renderReports(reports: Report[], format: OutputFormat): string {
  if (format === "json") return JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + "\n";
  if (format === "sarif") return JSON.stringify(toSarif(reports), null, 2) + "\n";
  return renderTable(reports);
}

function pad(cells: string[], widths: number[], right: boolean[]): string {
  return cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
}

function table(head: string[], rows: string[][], right: boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [pad(head, widths, right), pad(widths.map((w) => "-".repeat(w)), widths, right), ...rows.map((r) => pad(r, widths, right))].join("\n");
}

export function renderTable(reports: Report[]): string {
  const rows = reports.map((r) => [
    r.sha.slice(0, 10),
    (r.date ?? "").slice(0, 10),
    String(r.summary.files),
    String(r.summary.errors),
    String(r.summary.warnings),
    r.delta ? String(r.delta.new.length) : "-",
    r.delta ? String(r.delta.fixed.length) : "-",
    (r.subject ?? "").slice(0, 50),
  ]);
  const right = [false, false, true, true, true, true, true, false];
  let out = table(["commit", "date", "files", "errors", "warnings", "new", "fixed", "subject"], rows, right) + "\n";
  const rules = topRules(reports, 10);
  if (rules.length > 0) {
    out += "\nTop rules (across these commits)\n";
    out += table(["rule", "count"], rules.map(([rule, n]) => [rule, String(n)]), [false, true]) + "\n";
  }
  return out;
}

export function topRules(reports: Report[], n: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of reports)
    for (const f of r.files)
      for (const m of f.messages) {
        const rule = `${m.linter}/${m.ruleId ?? "parse-error"}`;
        counts.set(rule, (counts.get(rule) ?? 0) + 1);
      }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}
