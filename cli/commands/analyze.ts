/**
 * `farm analyze`: publish repo.new_sha, follow the analysis events, print the
 * reports. Starts the embedded default when no cluster is given.
 */
import { existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { encode } from "../../shared/codec.js";
import { repoKey, resolveHead } from "../../shared/git.js";
import type { Report } from "../../shared/report.js";
import { subjects } from "../../shared/topology.js";
import type { Farm } from "../../shared/farm.js";
import { fetchReport } from "../../shared/report-client.js";
import { mapLimit } from "../../shared/concurrency.js";
import { openCluster } from "../cluster.js";
import { commandContext, EXIT, parseCount, UsageError, type ConnectionFlags } from "../context.js";
import { Progress } from "../progress.js";
import { renderReports, type OutputFormat } from "../render.js";

interface AnalyzeFlags extends ConnectionFlags {
  sha?: string;
  commits: string;
  format: OutputFormat;
  out?: string;
  failOn?: "error" | "warning";
  timeout: string;
}

interface Completed {
  repo: string;
  sha: string;
  requested?: boolean;
  stats?: { files: number; cacheHits: number; queued: number };
}

/** A local directory becomes an absolute path (what ingest will see); anything else is a url. */
function repoArgument(arg: string): string {
  if (existsSync(arg) && statSync(arg).isDirectory()) return path.resolve(arg);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg) || /^[\w.-]+@[\w.-]+:/.test(arg)) return arg;
  throw new UsageError(`"${arg}" is neither a directory nor a clone url`);
}

export async function analyzeCommand(repoArg: string, flags: AnalyzeFlags) {
  const ctx = commandContext(flags);
  const commits = parseCount("--commits", flags.commits, 1);
  const timeoutMs = parseCount("--timeout", flags.timeout, 1) * 1000;
  const repo = repoArgument(repoArg);
  const sha = flags.sha ? flags.sha.toLowerCase() : await resolveHead(repo);
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha)) throw new UsageError(`--sha must be a full 40 or 64 hex commit id, got "${flags.sha}"`);

  const cluster = await openCluster(ctx.config, ctx.log);
  let reports: Report[];
  try {
    reports = await follow(cluster.farm, repo, sha, commits - 1, timeoutMs);
  } finally {
    await cluster.close();
  }
  const output = renderReports(reports, flags.format);
  if (flags.out) await writeFile(flags.out, output);
  else process.stdout.write(output);
  if (flags.failOn && reports.some((r) => r.summary.errors > 0 || (flags.failOn === "warning" && r.summary.warnings > 0))) {
    process.exitCode = EXIT.issuesFound;
  }
}

/** Publishes the request and resolves with the requested commits' reports, newest first. */
async function follow(farm: Farm, repo: string, sha: string, history: number, timeoutMs: number): Promise<Report[]> {
  const key = repoKey(repo);
  const progress = new Progress(process.stderr);
  let expected: string[] | undefined;
  const done = new Map<string, Completed>();
  let settle!: (err?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  const check = () => {
    if (expected && expected.every((s) => done.has(s))) settle();
  };
  const sub = farm.events.subscribe<Record<string, any>>(`${subjects.analysis}.>`, (e, subject) => {
    if (typeof e?.repo !== "string" || repoKey(e.repo) !== key) return;
    if (subject === subjects.started && Array.isArray(e.commits) && e.sha === sha) {
      expected = e.commits;
      progress.start(expected!.length);
    } else if (subject === subjects.completed && e.requested) {
      if (!done.has(e.sha)) {
        done.set(e.sha, e as Completed);
        progress.commitDone(e.stats);
      }
    } else if (subject === subjects.failed && (e.sha === sha || e.sha === null || expected?.includes(e.sha))) {
      settle(new UsageError(`analysis failed: ${e.reason}`));
      return;
    }
    check();
  });
  const timer = setTimeout(() => settle(new Error(`no result within ${timeoutMs / 1000} s (see farm status)`)), timeoutMs);
  try {
    await farm.nc.flush();
    await farm.js.publish(subjects.newSha, encode({ repo, sha, history }, "json"));
    await finished;
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
    progress.stop();
  }
  // A few at a time: each is one request, assembled from the result cache by the aggregator.
  return mapLimit(expected!, 4, (s) => fetchReport<Report>(farm, { repo, sha: s }));
}
