/** A commit's own lint toolchain as the table prints it: one line, what a reader needs to trust the numbers. */
import type { ReportToolchain } from "../shared/pipeline/report.js";
import { printable } from "./printable.js";

/** Characters of the toolchain's id shown: enough to tell toolchains apart at a glance. */
const ID_SHOWN = 8;

/** `eslint 9.12.0 (eslint.config.mjs), eslint-plugin-n 17.10.3 [id 1a2b3c4d]`: ESLint first, then each other package. */
export function toolchainText(t: ReportToolchain): string {
  const config = t.configFile ? ` (${t.configFile})` : "";
  const others = Object.entries(t.packages)
    .filter(([name]) => name !== "eslint")
    .map(([name, version]) => `, ${name} ${version}`)
    .join("");
  return printable(`eslint ${t.eslint}${config}${others} [id ${t.id.slice(0, ID_SHOWN)}]`);
}

/** The distinct toolchains of a list of commits, each with how many commits ran it. */
export class ToolchainTally {
  private readonly byId = new Map<string, { text: string; commits: number }>();

  add(t: ReportToolchain | undefined): void {
    if (!t) return;
    const seen = this.byId.get(t.id);
    if (seen) seen.commits++;
    else this.byId.set(t.id, { text: toolchainText(t), commits: 1 });
  }

  /** One `toolchain:` line each; in a history, with its commits (none for commits whose config was read as data). */
  lines(commits: number): string {
    return [...this.byId.values()]
      .map(({ text, commits: n }) => `toolchain: ${text}${commits > 1 ? ` (${n === commits ? "every commit" : `${n} of ${commits} commits`})` : ""}\n`)
      .join("");
  }
}
