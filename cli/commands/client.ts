/** Client commands against a running cluster: publish, report, events. */
import { encode } from "../../shared/fabric/codec.js";
import type { AnalysisRequest } from "../../shared/pipeline/contract.js";
import type { Report } from "../../shared/pipeline/report.js";
import { EventLog } from "../../shared/pipeline/event-log.js";
import { fetchReport } from "../../shared/pipeline/report-client.js";
import { subjects } from "../../shared/pipeline/names.js";
import { traceHeaders } from "../../shared/fabric/tracing.js";
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
    const payload: AnalysisRequest = { repo, sha, history, ...(flags.ref ? { ref: flags.ref } : {}) };
    // A JetStream publish: the ack proves the stream holds it, so it survives an ingest outage.
    const ack = await farm.js.publish(subjects.newSha, encode(payload, "json"), { headers: traceHeaders() }).catch((err: Error) => {
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

interface EventsFlags extends ConnectionFlags {
  since?: string;
}

/** `--since`: a duration back from now (90s, 10m, 2h, 1d) or a date. */
export function parseSince(value: string, now = Date.now()): Date {
  const d = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (d) return new Date(now - Number(d[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[d[2] as "s" | "m" | "h" | "d"]);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`--since must be a duration such as 90s, 10m, 2h, 1d, or a date, got "${value}"`);
  return new Date(t);
}

/** Ids already printed, so an event read from the stream and received live is printed once. */
const SEEN_IDS = 10_000;

export async function eventsCommand(pattern: string, flags: EventsFlags) {
  const ctx = commandContext(flags);
  const since = flags.since === undefined ? undefined : parseSince(flags.since);
  const farm = await connectClient(ctx, "farm-events");
  const seen = new Set<string>();
  const print = (subject: string, payload: unknown) => {
    const id = (payload as { id?: unknown })?.id;
    if (typeof id === "string") {
      if (seen.has(id)) return;
      seen.add(id);
      if (seen.size > SEEN_IDS) seen.delete(seen.values().next().value!);
    }
    process.stdout.write(JSON.stringify({ subject, ...(payload as object) }) + "\n");
  };
  // Live first, held back while the stored events print: nothing falls between the two.
  let live: [string, unknown][] | undefined = since ? [] : undefined;
  farm.events.subscribe(pattern, (payload, subject) => void (live ? live.push([subject, payload]) : print(subject, payload)));
  await farm.nc.flush();
  try {
    if (since) {
      for await (const e of new EventLog(farm.jsm).read({ since, pattern })) print(e.subject, e.payload);
      for (const [subject, payload] of live!) print(subject, payload);
      live = undefined;
    }
    process.stderr.write(`listening on ${pattern}\n`);
    await Promise.race([untilSignal(), whenStdoutClosed()]);
  } finally {
    await farm.close();
  }
}
