/**
 * `farm analyze`: publish repo.new_sha, follow the analysis events, print the
 * reports. Starts the embedded default when no cluster is given.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { encode } from "../../shared/fabric/codec.js";
import { repoKey } from "../../shared/git/index.js";
import type { AnalysisRequest, AnalysisStartedEvent, CompletedEvent, FailedEvent, SplitStats, Unchecked } from "../../shared/pipeline/contract.js";
import type { Report } from "../../shared/pipeline/report.js";
import { toSarif } from "../../shared/pipeline/sarif.js";
import { subjects } from "../../shared/pipeline/names.js";
import { traceHeaders } from "../../shared/fabric/tracing.js";
import type { Farm } from "../../shared/fabric/farm.js";
import { fetchReport, fetchReportJson } from "../../shared/pipeline/report-client.js";
import { mapOrdered } from "../../shared/fabric/concurrency.js";
import { openCluster } from "../cluster.js";
import { commandContext } from "../context.js";
import { EXIT, UsageError } from "../errors.js";
import type { ConnectionFlags } from "../config.js";
import type { Duration } from "../options.js";
import { FailOn, type FailLevel } from "../fail-on.js";
import { Progress } from "../progress.js";
import { untilSignal } from "../signals.js";
import { writeReports, type AnyReport, type OutputFormat } from "../render.js";
import { analyzedRepo, commitOf } from "../revision.js";
import { outputTarget, writeOutput, writeOutputFile } from "../output-file.js";

interface AnalyzeFlags extends ConnectionFlags {
  sha?: string;
  /** --commits: the sha and n-1 first-parent ancestors. */
  commits: number;
  format: OutputFormat;
  summary?: boolean;
  details?: boolean;
  sarifDir?: string;
  out?: string;
  failOn?: FailLevel;
  /** --timeout: seconds or a duration. */
  timeout: Duration;
  /** --web: serve the web app during the analysis, and after it until Ctrl-C. */
  web?: boolean;
}

/** The `repo.analysis.*` events this command follows: any client may publish them, so every field is checked. */
type FollowedEvent = Unchecked<AnalysisStartedEvent & CompletedEvent & FailedEvent>;

function isShaList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === "string");
}

function statsOf(v: unknown): SplitStats | undefined {
  const s = v as Partial<SplitStats> | null;
  return typeof s?.queued === "number" && typeof s.cacheHits === "number" && typeof s.files === "number" ? (s as SplitStats) : undefined;
}

/** After the reports, the web app stays up for the person reading it, until Ctrl-C. */
async function serveUntilSignal(url: string): Promise<void> {
  process.stderr.write(`farm: analysis done; the web app stays at ${url} until Ctrl-C\n`);
  await untilSignal();
}

export async function analyzeCommand(repoArg: string, flags: AnalyzeFlags) {
  const ctx = commandContext(flags);
  if (flags.summary && (flags.format === "table" || flags.format === "sarif")) throw new UsageError("--summary applies to --format json and ndjson");
  const repo = analyzedRepo(repoArg);
  const sha = await commitOf(repo, flags.sha, "--sha");
  // A directory named by --out is refused now, not after the analysis.
  if (flags.out) await outputTarget(flags.out);

  const cluster = await openCluster(ctx.config, ctx.log, { web: flags.web, prefetch: { repo, sha } });
  // stderr: stdout is the reports'.
  if (cluster.web) process.stderr.write(`farm: web app at ${cluster.web.url} (live progress: ${cluster.web.url}live)\n`);
  const failOn = flags.failOn ? new FailOn(flags.failOn) : undefined;
  try {
    const shas = await follow(cluster.farm, repo, sha, flags.commits - 1, flags.timeout);
    if (flags.sarifDir) await writeSarifFiles(cluster.farm, repo, shas, flags.sarifDir);
    // SARIF is what a code-scanning upload takes: the requested commit, against its parent.
    const shown = flags.format === "sarif" ? shas.slice(0, 1) : shas;
    // A history's table, or its summary form, needs no file: the summary view, never the whole reports.
    const view = flags.summary || (flags.format === "table" && shown.length > 1) ? "summary" : undefined;
    // A few requests at a time, each written out as soon as its turn comes: a long history is never held whole.
    const reports = mapOrdered(shown, 4, async (s) => {
      // NDJSON prints each answer as its JSON came, never parsed (unless --fail-on counts its issues).
      if (flags.format === "ndjson" && !failOn) return fetchReportJson(cluster.farm, { repo, sha: s, view });
      const r = await fetchReport<AnyReport>(cluster.farm, { repo, sha: s, view });
      failOn?.count(r);
      return r;
    });
    await writeOutput(flags.out ?? "-", (out) =>
      writeReports(reports, shown.length, { format: flags.format, summary: flags.summary, details: flags.details }, out),
    );
    if (cluster.web) await serveUntilSignal(cluster.web.url);
  } finally {
    await cluster.close();
  }
  if (failOn?.failed) {
    process.stderr.write(`farm: ${failOn.line()}\n`);
    process.exitCode = EXIT.issuesFound;
  }
}

/** One SARIF file per commit, `<dir>/<sha>.sarif`: a history's code-scanning uploads. */
async function writeSarifFiles(farm: Farm, repo: string, shas: string[], dir: string) {
  await mkdir(dir, { recursive: true });
  for await (const r of mapOrdered(shas, 4, (s) => fetchReport<Report>(farm, { repo, sha: s }))) {
    await writeOutputFile(path.join(dir, `${r.sha}.sarif`), JSON.stringify(toSarif(r), null, 2) + "\n");
  }
}

/** Publishes the request and resolves with the requested commits, newest first, once all are analyzed. */
async function follow(farm: Farm, repo: string, sha: string, history: number, timeout: Duration): Promise<string[]> {
  const key = repoKey(repo);
  const progress = new Progress(process.stderr);
  let expected: string[] | undefined;
  let baseline: string | null = null;
  const done = new Set<string>();
  let settle!: (err?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  const check = () => {
    // Counted first: a history's every completion would otherwise walk the whole list.
    if (expected && done.size >= expected.length && expected.every((s) => done.has(s))) settle();
  };
  const sub = farm.events.subscribe<FollowedEvent>(`${subjects.analysis}.>`, (e, subject) => {
    if (typeof e?.repo !== "string" || repoKey(e.repo) !== key) return;
    if (subject === subjects.started && isShaList(e.commits) && e.sha === sha) {
      expected = e.commits;
      baseline = typeof e.baseline === "string" ? e.baseline : null;
      progress.start(expected.length);
    } else if (subject === subjects.completed && e.requested && typeof e.sha === "string") {
      if (!done.has(e.sha)) {
        done.add(e.sha);
        progress.commitDone(statsOf(e.stats));
      }
    } else if (subject === subjects.completed && e.sha === baseline) {
      baseline = null;
      progress.counted(statsOf(e.stats));
    } else if (subject === subjects.failed && (e.sha === sha || e.sha === null || (typeof e.sha === "string" && expected?.includes(e.sha)))) {
      settle(new UsageError(`analysis failed: ${String(e.reason)}`));
      return;
    }
    check();
  });
  const timer = setTimeout(() => settle(new Error(`no result within ${timeout.text} (see farm status)`)), timeout.ms);
  try {
    await farm.nc.flush();
    await farm.js.publish(subjects.newSha, encode({ repo, sha, history } satisfies AnalysisRequest, "json"), { headers: traceHeaders() });
    await finished;
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
    progress.stop();
  }
  return expected!;
}
