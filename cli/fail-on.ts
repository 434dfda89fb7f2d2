/** `--fail-on`: which printed commits have issues at or above a level, said in one line. */
import type { Report } from "../shared/pipeline/report.js";

export type FailLevel = "error" | "warning";

/** Commits named in the line; the rest are counted. */
const NAMED = 5;

export class FailOn {
  private readonly failing: { sha: string; issues: number }[] = [];
  private commits = 0;

  constructor(readonly level: FailLevel) {}

  /** Counts one commit's issues at or above the level. */
  count(r: Pick<Report, "sha" | "summary">): void {
    this.commits++;
    const issues = r.summary.errors + (this.level === "warning" ? r.summary.warnings : 0);
    if (issues > 0) this.failing.push({ sha: r.sha, issues });
  }

  get failed(): boolean {
    return this.failing.length > 0;
  }

  /** E.g. "--fail-on error: 3 issues at or above error in 2 of 50 commits: 1a2b3c4d5e (2), 0f9e8d7c6b (1)". */
  line(): string {
    const total = this.failing.reduce((n, c) => n + c.issues, 0);
    const named = this.failing.slice(0, NAMED).map((c) => `${c.sha.slice(0, 10)} (${c.issues})`);
    const more = this.failing.length > NAMED ? `, and ${this.failing.length - NAMED} more` : "";
    const where = this.commits === 1 ? `in commit ${named[0]}` : `in ${this.failing.length} of ${this.commits} commits: ${named.join(", ")}${more}`;
    return `--fail-on ${this.level}: ${total} ${total === 1 ? "issue" : "issues"} at or above ${this.level} ${where}`;
  }
}
