/**
 * What a check run says of a commit's report: its title and summary (the
 * commit's counts and delta, the top rules, the notes, a link to farm's web
 * app) and its annotations (the new issues at their lines), paged as GitHub
 * takes them. Everything a repository supplies (paths, messages, rule names,
 * notes) is escaped for Markdown.
 */
import type { DeltaEntry, Report } from "../../shared/pipeline/report.js";
import type { Gate } from "../../shared/pipeline/gate.js";
import { gateRule, type Conclusion } from "./gate.js";

/** The check run's name on the commit. */
export const CHECK_NAME = "farm";
/** GitHub takes at most 50 annotations per request. */
export const ANNOTATIONS_PER_REQUEST = 50;
/** Annotations posted per commit at most; the summary says when there were more. */
export const MAX_ANNOTATIONS = 1000;
/** GitHub's limit on a summary's length. */
const MAX_SUMMARY = 65_535;
const TOP_RULES = 5;

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: "failure" | "warning" | "notice";
  message: string;
  title?: string;
}

export interface CheckOutput {
  title: string;
  summary: string;
}

/** The new issues as annotations (errors first), at most MAX_ANNOTATIONS, and how many there were. */
export function annotationsOf(report: Pick<Report, "delta">): { annotations: Annotation[]; total: number } {
  const entries = [...(report.delta?.new ?? [])].sort((a, b) => b.severity - a.severity || a.path.localeCompare(b.path) || a.line - b.line);
  return { annotations: entries.slice(0, MAX_ANNOTATIONS).map(annotation), total: entries.length };
}

function annotation(e: DeltaEntry): Annotation {
  const line = Math.max(1, e.line);
  return {
    path: e.path,
    start_line: line,
    end_line: line,
    // Columns only within one line, as GitHub wants them.
    ...(e.column > 0 ? { start_column: e.column, end_column: e.column } : {}),
    annotation_level: e.severity === 2 ? "failure" : "warning",
    message: e.message,
    ...(e.ruleId ? { title: `${e.linter}/${e.ruleId}` } : {}),
  };
}

/** Annotations in requests GitHub takes: the first page with the create, the rest one update each. */
export function pages<T>(items: readonly T[], size = ANNOTATIONS_PER_REQUEST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface SummaryInput {
  report: Pick<Report, "summary" | "delta" | "notes" | "files">;
  conclusion: Conclusion;
  gate: Gate;
  /** Who set the gate: the commit's `.farm.json`, or the operator (FARM_CHECK_GATE). */
  gateBy?: "repository" | "operator";
  /** The commit's page on farm's web app, when its public url is known. */
  link?: string;
  /** New issues beyond MAX_ANNOTATIONS, not annotated. */
  unannotated: number;
}

export function outputOf({ report, conclusion, gate, gateBy = "operator", link, unannotated }: SummaryInput): CheckOutput {
  const { files, errors, warnings } = report.summary;
  const delta = report.delta;
  const newErrors = delta?.new.filter((e) => e.severity === 2).length ?? 0;
  const title =
    conclusion === "failure"
      ? gate === "errors"
        ? `${errors} ${plural(errors, "error")}`
        : `${newErrors} new ${plural(newErrors, "error")}`
      : delta
        ? `${delta.new.length} new, ${delta.fixed.length} fixed`
        : `${errors} ${plural(errors, "error")}, ${warnings} ${plural(warnings, "warning")}`;
  const lines = [
    `**${files}** files linted: **${errors}** ${plural(errors, "error")}, **${warnings}** ${plural(warnings, "warning")}.`,
    delta
      ? `Against the parent: **${delta.new.length}** new (${newErrors} ${plural(newErrors, "error")}), **${delta.fixed.length}** fixed.`
      : "No delta: the parent commit was not analysed.",
    `Quality gate${gateBy === "repository" ? " (set by the repository's .farm.json)" : ""}: ${gateRule(gate)} (${conclusion}).`,
  ];
  const rules = topRules(report.files);
  if (rules.length > 0) {
    lines.push("", "| rule | messages |", "|---|---:|", ...rules.map(([rule, n]) => `| ${md(rule)} | ${n} |`));
  }
  if (report.notes?.length) lines.push("", "**Notes**", ...report.notes.map((n) => `- ${md(n)}`));
  if (unannotated > 0) lines.push("", `${unannotated} more new ${plural(unannotated, "issue")} not annotated (at most ${MAX_ANNOTATIONS} are).`);
  if (link) lines.push("", `[The commit in farm](${link})`);
  let summary = lines.join("\n");
  if (summary.length > MAX_SUMMARY) summary = summary.slice(0, MAX_SUMMARY - 20) + "\n\n(cut short)";
  return { title, summary };
}

/** The rules with the most messages at the commit. */
function topRules(files: Report["files"]): [string, number][] {
  const counts = new Map<string, number>();
  for (const f of files) for (const m of f.messages) if (m.ruleId) counts.set(m.ruleId, (counts.get(m.ruleId) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, TOP_RULES);
}

const plural = (n: number, word: string) => (n === 1 ? word : `${word}s`);

/** Text a repository supplied, as Markdown shows it literally (no links, images, tables or HTML of its own). */
export function md(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+!|~&-]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ");
}
