/** `farm history <repo>`: the trend of a repository's analysed first-parent history (history.commits). */
import { ErrorCodes, FarmError } from "../../shared/fabric/errors.js";
import type { HistoryCommit, HistoryCommitsReply } from "../../shared/pipeline/contract.js";
import { subjects } from "../../shared/pipeline/names.js";
import { request } from "../../shared/pipeline/request.js";
import { commandContext, connectClient } from "../context.js";
import { UsageError } from "../errors.js";
import type { ConnectionFlags } from "../config.js";
import { printable } from "../printable.js";
import { reportedRepo } from "../revision.js";

interface HistoryFlags extends ConnectionFlags {
  /** --limit: commits to show. */
  limit: number;
  /** --branch: start at this branch's newest analysed commit. */
  branch?: string;
  json?: boolean;
}

/** The most history.commits answers in one page. */
const PAGE = 1000;

export async function historyCommand(repoArg: string, flags: HistoryFlags) {
  const ctx = commandContext(flags);
  const repo = reportedRepo(repoArg);
  const farm = await connectClient(ctx, "farm-history");
  try {
    const pages: HistoryCommitsReply[] = [];
    let from: string | null | undefined;
    for (let left = flags.limit; left > 0 && from !== null;) {
      const q = { repo, limit: Math.min(left, PAGE), ...(from ? { from } : flags.branch !== undefined ? { branch: flags.branch } : {}) };
      const page = await request(farm, subjects.historyCommits, q, { timeout: 30_000 }).catch((err: unknown) => {
        if (err instanceof FarmError && err.code === ErrorCodes.NotFound)
          throw new UsageError(
            flags.branch !== undefined
              ? `no analysed commit of branch ${flags.branch} of ${repo}: \`farm publish --ref refs/heads/${flags.branch}\` its head first`
              : `${repo} was never analysed on this cluster: \`farm publish\` (or \`farm analyze\`) it first`,
          );
        throw err;
      });
      pages.push(page);
      left -= page.commits.length;
      from = page.commits.length > 0 ? page.next : null;
    }
    if (flags.json) {
      process.stdout.write(JSON.stringify(pages, null, 2) + "\n");
      return;
    }
    const commits = pages.flatMap((p) => p.commits);
    const tty = process.stdout.isTTY === true;
    let out = "";
    if (tty && commits.length > 1) out += `errors  ${sparkline(commits.map((c) => c.summary.errors).reverse())}  (oldest → newest)\n\n`;
    out += historyTable(commits, tty ? (process.stdout.columns ?? 100) : 120);
    process.stdout.write(out + "\n");
  } finally {
    await farm.close();
  }
}

const BARS = "▁▂▃▄▅▆▇█";

/** One bar per value, scaled from the smallest to the largest (all ▁ when they are equal). */
export function sparkline(values: readonly number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => BARS[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]).join("");
}

/** The commits (newest first) as a table whose subjects are cut to fit `width` columns. */
export function historyTable(commits: readonly HistoryCommit[], width: number): string {
  const head = ["commit", "date", "errors", "warnings", "new", "fixed", "subject"];
  const right = [false, false, true, true, true, true, false];
  const rows = commits.map((c) => [
    c.sha.slice(0, 10),
    c.date.slice(0, 10),
    String(c.summary.errors),
    String(c.summary.warnings),
    c.new === null ? "-" : String(c.new),
    c.fixed === null ? "-" : String(c.fixed),
    printable(c.subject),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // The subject gets what the other columns leave of the line, at least a few characters.
  const rest = widths.slice(0, -1).reduce((a, w) => a + w + 2, 0);
  const subjectWidth = Math.max(12, width - rest - 1);
  for (const r of rows) r[6] = cut(r[6], subjectWidth);
  widths[6] = Math.min(widths[6], subjectWidth);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function cut(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join("")}…`;
}
