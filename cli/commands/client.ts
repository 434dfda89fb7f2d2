/** Client commands against a running cluster: publish, report, events. */
import { encode } from "../../shared/codec.js";
import type { Report } from "../../shared/report.js";
import { fetchReport } from "../../shared/report-client.js";
import { subjects } from "../../shared/topology.js";
import { commandContext, connectClient, parseCount, UsageError, type ConnectionFlags } from "../context.js";
import { whenStdoutClosed } from "../output.js";
import { renderReports, type OutputFormat } from "../render.js";
import { commitOf, reportedRepo } from "../revision.js";
import { untilSignal } from "../signals.js";

interface PublishFlags extends ConnectionFlags {
  history: string;
  ref?: string;
}

export async function publishCommand(repo: string, sha: string, flags: PublishFlags) {
  const ctx = commandContext(flags);
  const history = parseCount("--history", flags.history);
  const farm = await connectClient(ctx, "farm-publish");
  try {
    const payload = { repo, sha, history, ...(flags.ref ? { ref: flags.ref } : {}) };
    // A JetStream publish: the ack proves the stream holds it, so it survives an ingest outage.
    const ack = await farm.js.publish(subjects.newSha, encode(payload, "json")).catch((err: Error) => {
      throw new UsageError(`the cluster did not store repo.new_sha (${err.message}): is farm running there?`);
    });
    process.stdout.write(JSON.stringify({ published: payload, stream: ack.stream, seq: ack.seq }) + "\n");
  } finally {
    await farm.close();
  }
}

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

export async function eventsCommand(pattern: string, flags: ConnectionFlags) {
  const ctx = commandContext(flags);
  const farm = await connectClient(ctx, "farm-events");
  farm.events.subscribe(pattern, (payload, subject) => {
    process.stdout.write(JSON.stringify({ subject, ...(payload as object) }) + "\n");
  });
  await farm.nc.flush();
  process.stderr.write(`listening on ${pattern}\n`);
  await Promise.race([untilSignal(), whenStdoutClosed()]);
  await farm.close();
}
