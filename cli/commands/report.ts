/** `farm report <repo> <sha>`: fetch a commit's report. */
import type { Report } from "../../shared/pipeline/report.js";
import { fetchReport } from "../../shared/pipeline/report-client.js";
import { commandContext, connectClient } from "../context.js";
import type { ConnectionFlags } from "../config.js";
import { renderReports, type OutputFormat } from "../render.js";
import { commitOf, reportedRepo } from "../revision.js";

interface ReportFlags extends ConnectionFlags {
  format: Exclude<OutputFormat, "ndjson">;
  json?: boolean;
}

export async function reportCommand(repoArg: string, rev: string, flags: ReportFlags) {
  const ctx = commandContext(flags);
  const repo = reportedRepo(repoArg);
  const sha = await commitOf(repo, rev, "<sha>");
  const farm = await connectClient(ctx, "farm-report");
  try {
    const report = await fetchReport<Report>(farm, { repo, sha });
    process.stdout.write(renderReports([report], { format: flags.json ? "json" : flags.format }));
  } finally {
    await farm.close();
  }
}
