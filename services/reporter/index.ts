/**
 * reporter: results where code is reviewed. It follows the EVENTS stream
 * through a durable consumer of its own (each event once, across restarts),
 * and for each analysed request head on GitHub opens a check run when the
 * analysis starts and completes it with the gate's conclusion, a summary and
 * the new issues as annotations. Events are taken in order, one at a time, so
 * a commit's start is always handled before its completion; a host error is
 * retried in place (rate limits when the host says), a 4xx other than a rate
 * limit dead-letters the event with the reason. Git-host credentials stay in
 * this process: never in events, logs, reports or dead letters.
 */
import { readFileSync } from "node:fs";
import { AckPolicy, DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos } from "@nats-io/transport-node";
import { decode } from "../../shared/fabric/codec.js";
import { ErrorCodes, FarmError, isPermanent, RetryLaterError } from "../../shared/fabric/errors.js";
import { sleep } from "../../shared/fabric/concurrency.js";
import { fetchReport } from "../../shared/pipeline/report-client.js";
import { buckets, EVENTS_STREAM, kvKeys, REPORTER_DURABLE, subjects } from "../../shared/pipeline/names.js";
import type { Service, ServiceContext } from "../../shared/pipeline/service.js";
import { repoKey } from "../../shared/git/index.js";
import { ANNOTATIONS_PER_REQUEST, annotationsOf, CHECK_NAME, outputOf, pages, type Annotation } from "./check-run.js";
import { conclusionOf, gateOf } from "./gate.js";
import { fetchTrusting, GitHub } from "./github.js";
import { GitLab, type CommitStatus } from "./gitlab.js";
import { repoOnHost, type HostRepo } from "./hosts.js";
import { CheckStates, type CheckState } from "./state.js";

/** Attempts of one event before it is dead-lettered, and the waits between them (ms). */
const ATTEMPTS = 6;
const BACKOFF = [1000, 2000, 5000, 15_000, 30_000];
/**
 * Events delivered and not yet acknowledged, at most: one, so that they are
 * handled in the stream's order even across a restart (a commit's start
 * before its completion); handling an event that concerns no check run is a
 * KV read at most.
 */
const PREFETCH = 1;

interface Target {
  key: string;
  repo: string;
  sha: string;
  at: HostRepo;
  host: "github" | "gitlab";
}

export interface ReporterDeps extends ServiceContext {
  /** GitHub's checks, when configured. */
  github?: GitHub;
  /** GitLab's commit statuses, when configured. */
  gitlab?: GitLab;
  states: CheckStates;
  /** Aborted when the reporter closes: a long event stops between two requests. */
  signal?: AbortSignal;
}

export class Reporter {
  readonly counts = { created: 0, completed: 0, annotations: 0, deadLettered: 0 };

  constructor(private readonly deps: ReporterDeps) {}

  /** Handles one event; throws to retry, a permanent error to give it up. */
  async onEvent(subject: string, e: Record<string, unknown>): Promise<void> {
    if (subject === subjects.started && Array.isArray(e.commits)) return this.started(e);
    if (subject === subjects.completed && e.requested === true) return this.completed(e);
    if (subject === subjects.failed) return this.failed(e);
  }

  /** A request's analysis started: its head gets a check run in progress. */
  private async started(e: Record<string, unknown>): Promise<void> {
    const t = this.target(e);
    if (!t || !(await this.deps.states.claim(t.key))) return;
    const commits = (e.commits as unknown[]).length;
    if (t.host === "gitlab") {
      await this.status(t, { state: "running", description: `analysing ${commits} ${commits === 1 ? "commit" : "commits"}` });
      return this.deps.states.put(t.key, { phase: "open", pages: 0 });
    }
    const id = await this.create(t, {
      name: CHECK_NAME,
      head_sha: t.sha,
      external_id: t.key,
      status: "in_progress",
      started_at: new Date().toISOString(),
      ...this.link(t),
      output: { title: "Analysing", summary: `farm is analysing ${commits} ${commits === 1 ? "commit" : "commits"}.` },
    });
    this.counts.created++;
    await this.deps.states.put(t.key, { phase: "open", id, pages: 0 });
  }

  /** Creates the check run; when the host refuses it for good, the commit is given up (done) so its other events post nothing. */
  private async create(t: Target, body: Record<string, unknown>): Promise<number> {
    try {
      return await this.deps.github!.createCheck(t.at, body);
    } catch (err) {
      if (isPermanent(err)) await this.deps.states.put(t.key, { phase: "done", pages: 0 });
      throw err;
    }
  }

  /** A requested commit completed: its check run (if its request opened one) completes. */
  private async completed(e: Record<string, unknown>): Promise<void> {
    const t = this.target(e);
    if (!t) return;
    const state = await this.deps.states.get(t.key);
    if (!state || state.phase === "done") return;
    const report = await fetchReport(this.deps.farm, { repo: t.repo, sha: t.sha });
    const { gate, by } = gateOf(report, this.deps.config.checkGate);
    const conclusion = conclusionOf(gate, report);
    const { annotations, total } = annotationsOf(report);
    const output = outputOf({ report, conclusion, gate, gateBy: by, link: this.link(t).details_url, unannotated: total - annotations.length });
    if (t.host === "gitlab") {
      // GitLab has no neutral: a commit the gate cannot judge passes, and says why.
      await this.status(t, { state: conclusion === "failure" ? "failed" : "success", description: output.title });
      await this.deps.states.put(t.key, { phase: "done", pages: 0 });
      this.counts.completed++;
      return;
    }
    const id = await this.openId(t, state);
    // Annotations first, a page per request. Where to start is GitHub's count, not only the record: an
    // attempt that stopped between a page and its record (a SIGKILL) must not post that page again.
    const all = pages<Annotation>(annotations);
    const posted = all.length > 0 ? Math.ceil((await this.deps.github!.annotationsOf(t.at, id)) / ANNOTATIONS_PER_REQUEST) : 0;
    for (let p = Math.max(state.pages, posted); p < all.length; p++) {
      // Closing: stop between pages; the event comes back to the next reporter, which carries on from here.
      this.deps.signal?.throwIfAborted();
      await this.deps.github!.updateCheck(t.at, id, { output: { ...output, annotations: all[p] } });
      this.counts.annotations += all[p].length;
      await this.deps.states.put(t.key, { phase: "open", id, pages: p + 1 });
    }
    await this.deps.github!.updateCheck(t.at, id, { status: "completed", conclusion, completed_at: new Date().toISOString(), output });
    await this.deps.states.put(t.key, { phase: "done", id, pages: all.length });
    this.counts.completed++;
  }

  /** The analysis failed: an open check run completes as neutral, saying why. */
  private async failed(e: Record<string, unknown>): Promise<void> {
    const t = this.target(e);
    if (!t) return;
    const state = await this.deps.states.get(t.key);
    if (!state || state.phase === "done") return;
    const reason = typeof e.reason === "string" ? e.reason.slice(0, 1000) : "unknown";
    if (t.host === "gitlab") {
      await this.status(t, { state: "canceled", description: `farm could not analyse this commit: ${reason}` });
      await this.deps.states.put(t.key, { phase: "done", pages: 0 });
      this.counts.completed++;
      return;
    }
    const id = await this.openId(t, state);
    await this.deps.github!.updateCheck(t.at, id, {
      status: "completed",
      conclusion: "neutral",
      completed_at: new Date().toISOString(),
      output: { title: "farm could not analyse this commit", summary: reason.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`) },
    });
    await this.deps.states.put(t.key, { phase: "done", id, pages: state.pages });
    this.counts.completed++;
  }

  /** Sets the commit's GitLab status; refused for good, the commit is given up (done). */
  private async status(t: Target, s: Pick<CommitStatus, "state" | "description">): Promise<void> {
    try {
      await this.deps.gitlab!.setStatus(t.at, t.sha, { name: CHECK_NAME, ...s, ...(this.link(t).details_url ? { target_url: this.link(t).details_url } : {}) });
    } catch (err) {
      if (isPermanent(err)) await this.deps.states.put(t.key, { phase: "done", pages: 0 });
      throw err;
    }
  }

  /** The check run's id: recorded, or (claimed by an attempt that stopped before recording it) found by its external id, or created now. */
  private async openId(t: Target, state: CheckState): Promise<number> {
    if (state.id !== undefined) return state.id;
    const id =
      (await this.deps.github!.findCheck(t.at, t.sha, CHECK_NAME, t.key)) ??
      (await this.create(t, { name: CHECK_NAME, head_sha: t.sha, external_id: t.key, status: "in_progress", ...this.link(t) }));
    await this.deps.states.put(t.key, { phase: "open", id, pages: 0 });
    return id;
  }

  /** The commit on a configured host, or null (another host, a local path, a malformed event). */
  private target(e: Record<string, unknown>): Target | null {
    const { repo, sha } = e;
    if (typeof repo !== "string" || typeof sha !== "string" || !/^[0-9a-f]{40}$/.test(sha)) return null;
    const key = kvKeys.reporterCheck(repoKey(repo), sha);
    const onGitHub = this.deps.github ? repoOnHost(repo, this.deps.config.github.host) : null;
    if (onGitHub) return { key, repo, sha, at: onGitHub, host: "github" };
    const onGitLab = this.deps.gitlab ? repoOnHost(repo, this.deps.config.gitlab.host, { nested: true }) : null;
    return onGitLab ? { key, repo, sha, at: onGitLab, host: "gitlab" } : null;
  }

  private link(t: Target): { details_url?: string } {
    const base = this.deps.config.webUrl;
    if (!base) return {};
    const u = new URL("commit", base.endsWith("/") ? base : `${base}/`);
    u.search = new URLSearchParams({ repo: t.repo, sha: t.sha }).toString();
    return { details_url: u.toString() };
  }
}

/** The git hosts the configuration gives credentials for: at least one. */
function hostsOf(ctx: ServiceContext): Pick<ReporterDeps, "github" | "gitlab"> {
  const { github: g, gitlab: l, reporterCaFile } = ctx.config;
  const ca = reporterCaFile ? readFileSync(reporterCaFile, "utf8") : undefined;
  const app = g.appId && g.appKeyFile ? { id: g.appId, privateKey: readFileSync(g.appKeyFile, "utf8") } : undefined;
  const github = app || g.token ? new GitHub({ apiUrl: g.apiUrl, token: g.token, app, ca, log: ctx.log }) : undefined;
  const gitlab = l.token ? new GitLab({ apiUrl: l.apiUrl, token: l.token, ...(ca ? { fetch: fetchTrusting(ca) } : {}) }) : undefined;
  if (!github && !gitlab)
    throw new FarmError(
      "the reporter has no git host to report to: set FARM_GITHUB_TOKEN (or FARM_GITHUB_APP_ID and FARM_GITHUB_APP_KEY_FILE), or FARM_GITLAB_API_TOKEN",
      ErrorCodes.InvalidInput,
    );
  return { github, gitlab };
}

export async function startReporter(ctx: ServiceContext): Promise<Service> {
  const { farm, log } = ctx;
  const kv = await new Kvm(farm.nc).open(buckets.state);
  const stop = new AbortController();
  const reporter = new Reporter({ ...ctx, ...hostsOf(ctx), states: new CheckStates(kv), signal: stop.signal });
  await farm.jsm.consumers
    .add(EVENTS_STREAM, {
      durable_name: REPORTER_DURABLE,
      filter_subject: `${subjects.analysis}.>`,
      // A reporter added to a running farm reports from now on, not the day of events the stream keeps.
      deliver_policy: DeliverPolicy.New,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(60_000),
      max_ack_pending: PREFETCH,
    })
    .catch(async (err: unknown) => {
      // Made by an earlier run: keep it (and where it was).
      if (!(await farm.jsm.consumers.info(EVENTS_STREAM, REPORTER_DURABLE).catch(() => null))) throw err;
    });
  const consumer = await farm.js.consumers.get(EVENTS_STREAM, REPORTER_DURABLE);
  const messages = await consumer.consume({ max_messages: PREFETCH });
  const handle = async (m: JsMsg) => {
    let payload: Record<string, unknown>;
    try {
      payload = decode<Record<string, unknown>>(m.data, m.headers);
    } catch {
      return m.ack(); // not an event farm can read: nothing to report
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await reporter.onEvent(m.subject, payload);
        return m.ack();
      } catch (err) {
        // Closing: handed back at once, to the next reporter, which carries on from the state.
        if (stop.signal.aborted) return m.nak();
        const message = (err as Error).message;
        if (isPermanent(err) || attempt >= ATTEMPTS) {
          await farm.dlq.park(m, {
            stream: EVENTS_STREAM,
            streamSeq: m.seq,
            attempts: attempt,
            reason: message,
            kind: isPermanent(err) ? "permanent" : "exhausted",
          });
          reporter.counts.deadLettered++;
          log.warn({ subject: m.subject, attempts: attempt, reason: message }, "reporter: event dead-lettered");
          return m.term();
        }
        const wait = Math.max(BACKOFF[attempt - 1] ?? 30_000, err instanceof RetryLaterError ? err.retryAfterMs : 0);
        log.info({ subject: m.subject, attempt, wait, err: message }, "reporter: will retry");
        m.working();
        await sleepWorking(m, wait, stop.signal);
      }
    }
  };
  const loop = (async () => {
    for await (const m of messages) {
      if (stop.signal.aborted) break;
      await handle(m);
    }
  })();
  let closed: Promise<void> | undefined;
  return {
    name: "reporter",
    close: () =>
      (closed ??= (async () => {
        stop.abort();
        await messages.close();
        await loop.catch(() => {});
      })()),
    stats: () => ({ ...reporter.counts }),
  };
}

/** Waits `ms`, keeping the event ours (its ack wait is a minute; a rate limit may be longer). */
async function sleepWorking(m: JsMsg, ms: number, signal: AbortSignal): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !signal.aborted) {
    await sleep(Math.min(20_000, end - Date.now()), signal).catch(() => {});
    m.working();
  }
}
