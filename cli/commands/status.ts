/**
 * `farm status`: is the farm healthy, and how far behind is it? Streams and
 * consumers (pending, ack-pending, redelivered), the dead letters, the live
 * instances of each service, the analyses in flight. Exit 1 when a service
 * has no live instance or dead letters were stored recently (docs/operations.md's
 * "Operations" says exactly when); `--watch` keeps looking.
 */
import { declaredFair, fairDepths, queueDepths, type ConsumerStatus, type FairState, type StreamStatus } from "../../shared/pipeline/depths.js";
import { AckPolicy, DeliverPolicy, type JetStreamManager } from "@nats-io/jetstream";
import { nanos, nuid } from "@nats-io/transport-node";
import { EventLog } from "../../shared/pipeline/event-log.js";
import type { Farm } from "../../shared/fabric/farm.js";
import { whoIsUp, type Presence } from "../../shared/fabric/presence.js";
import { DLQ_STREAM } from "../../shared/fabric/names.js";
import { subjects } from "../../shared/pipeline/names.js";
import { SERVICE_NAMES, type ServiceName } from "../../services/index.js";
import { commandContext, connectClient, errorLine, exitCodeOf } from "../context.js";
import { EXIT } from "../errors.js";
import type { ConnectionFlags } from "../config.js";
import type { Duration } from "../options.js";
import { whenStdoutClosed, writerTo } from "../output.js";
import { untilSignal } from "../signals.js";

export interface StatusFlags extends ConnectionFlags {
  json?: boolean;
  watch?: boolean;
  /** --interval: between --watch snapshots. */
  interval: Duration;
  /** --expect: services that must have a live instance too. */
  expect?: ServiceName[];
  /** --dlq-window: dead letters stored within it make the farm unhealthy. */
  dlqWindow: Duration;
  /** --in-flight-window: analyses started within it and not finished are in flight. */
  inFlightWindow: Duration;
}

// ---- the snapshot: the JSON of `farm status --json` (documented in docs/operations.md; add fields, never rename) ----

export type { ConsumerStatus, FairState, StreamStatus };

export interface ServiceStatus {
  name: string;
  /** A service that must have a live instance (the pipeline's four, plus --expect). */
  expected: boolean;
  instances: number;
  versions: string[];
}

export interface InFlightAnalysis {
  repo: string;
  /** The requested commit. */
  sha: string;
  startedAt: string;
  /** Commits of the request whose report is stored, of all it asked for. */
  commits: { done: number; total: number };
  /** The latest progress event of one of its commits: files with results so far. */
  progress: { sha: string; done: number; total: number; at: string } | null;
}

export interface Problem {
  kind: "missing-service" | "dead-letters";
  message: string;
  service?: string;
  count?: number;
}

export interface StatusSnapshot {
  time: string;
  nats: string;
  healthy: boolean;
  problems: Problem[];
  services: ServiceStatus[];
  instances: Presence[];
  streams: StreamStatus[];
  /** Tasks of each fair stage by lane and tenant (token), waiting or running: the 10 biggest tenants per lane, the rest as "(others)". */
  lanes: FairState[];
  /** `storedSince`: dead letters stored since `since` and still in the DLQ (not replayed). */
  dlq: { messages: number; since: string; storedSince: number };
  analyses: { since: string; inFlight: InFlightAnalysis[] };
}

// ---- reading the farm ------------------------------------------------------------------

/**
 * The DLQ's size and how many of its entries were stored at or after `since`:
 * an ephemeral consumer starting at that time counts them exactly (its pending),
 * in two requests however long the DLQ is.
 */
async function deadLetters(jsm: JetStreamManager, since: Date): Promise<{ messages: number; storedSince: number }> {
  const info = await jsm.streams.info(DLQ_STREAM).catch(() => null);
  if (!info || info.state.messages === 0) return { messages: 0, storedSince: 0 };
  const name = `farm_status_${nuid.next()}`;
  const c = await jsm.consumers.add(DLQ_STREAM, {
    name,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: since.toISOString(),
    ack_policy: AckPolicy.None,
    mem_storage: true,
    num_replicas: 1,
    // Gone by itself should the delete below not happen (this process killed).
    inactive_threshold: nanos(30_000),
  });
  await jsm.consumers.delete(DLQ_STREAM, name).catch(() => {});
  return { messages: info.state.messages, storedSince: c.num_pending };
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

interface Tracked extends InFlightAnalysis {
  /** Requested commits with a stored report. */
  finished: Set<string>;
  startedMs: number;
}

/**
 * The analyses in flight, from the EVENTS stream: ingest's started event (the
 * one with `commits`) opens one; the requested sha's completed or failed event
 * closes it; progress of any of its commits updates it. Any client may publish
 * events, so every field is checked. Watching, each snapshot reads only what was
 * stored since the last.
 */
export class AnalysesInFlight {
  private readonly open = new Map<string, Tracked>();
  /** repo + commit sha → the key of the analysis that commit belongs to (the newest that asked for it). */
  private readonly byCommit = new Map<string, string>();
  private lastSeq = 0;
  private lastTime?: Date;

  constructor(
    private readonly log: EventLog,
    private readonly windowMs: number,
  ) {}

  since(now = Date.now()): Date {
    return new Date(now - this.windowMs);
  }

  async update(now = Date.now()): Promise<InFlightAnalysis[]> {
    const since = this.since(now);
    const from = this.lastTime && this.lastTime > since ? this.lastTime : since;
    try {
      for await (const e of this.log.read({ since: from })) {
        // Reading again from the last event's time: skip what was seen.
        if (e.seq <= this.lastSeq) continue;
        this.lastSeq = e.seq;
        this.lastTime = e.time;
        this.apply(e.subject, e.payload, e.time);
      }
    } catch (err) {
      // No EVENTS stream yet: nothing was ever analyzed.
      if (!/stream not found/i.test((err as Error).message)) throw err;
    }
    for (const [key, a] of this.open) if (a.startedMs < since.getTime()) this.drop(key);
    return [...this.open.values()]
      .sort((a, b) => a.startedMs - b.startedMs)
      .map(({ repo, sha, startedAt, finished, commits, progress }) => ({
        repo,
        sha,
        startedAt,
        commits: { done: finished.size, total: commits.total },
        progress,
      }));
  }

  private apply(subject: string, e: Record<string, unknown>, time: Date): void {
    const repo = str(e.repo);
    const sha = str(e.sha);
    if (!repo || !sha) return;
    const key = `${repo}\0${sha}`;
    if (subject === subjects.started && Array.isArray(e.commits)) {
      const commits = e.commits.filter((c): c is string => typeof c === "string");
      this.open.set(key, {
        repo,
        sha,
        startedAt: time.toISOString(),
        startedMs: time.getTime(),
        commits: { done: 0, total: commits.length },
        finished: new Set(),
        progress: null,
      });
      for (const c of [...commits, str(e.baseline)]) if (c) this.byCommit.set(`${repo}\0${c}`, key);
      return;
    }
    // The analysis that asked for this very commit, and the newest one it is part of (often the same).
    const own = this.open.get(key);
    const a = this.open.get(this.byCommit.get(key) ?? "") ?? own;
    if (a && subject === subjects.started) a.progress = { sha, done: 0, total: num(e.files) ?? 0, at: time.toISOString() };
    else if (a && subject === subjects.progress) a.progress = { sha, done: num(e.done) ?? 0, total: num(e.total) ?? 0, at: time.toISOString() };
    else if (subject === subjects.completed && e.requested !== false) for (const x of new Set([a, own])) x?.finished.add(sha);
    // The requested commit's own end ends its analysis.
    if (own && (subject === subjects.completed || subject === subjects.failed)) this.drop(key);
  }

  private drop(key: string): void {
    this.open.delete(key);
    for (const [c, k] of this.byCommit) if (k === key) this.byCommit.delete(c);
  }
}

interface Watcher {
  expected: string[];
  /** Dead letters stored from here on count as the DLQ growing. */
  dlqSince: (now: number) => Date;
  /** The same, in words: "in the last 15m", "since the watch began". */
  dlqWindow: string;
  inFlight: AnalysesInFlight;
}

async function snapshot(farm: Farm, nats: string, w: Watcher): Promise<StatusSnapshot> {
  const now = Date.now();
  const dlqSince = w.dlqSince(now);
  const [streams, lanes, dlq, instances, inFlight] = await Promise.all([
    queueDepths(farm),
    fairDepths(farm.jsm, declaredFair(farm)),
    deadLetters(farm.jsm, dlqSince),
    whoIsUp(farm.nc),
    w.inFlight.update(now),
  ]);
  instances.sort((a, b) => a.service.localeCompare(b.service) || a.startedAt.localeCompare(b.startedAt));
  const names = [...w.expected, ...new Set(instances.map((i) => i.service).filter((s) => !w.expected.includes(s)))];
  const services = names.map((name) => {
    const mine = instances.filter((i) => i.service === name);
    return { name, expected: w.expected.includes(name), instances: mine.length, versions: [...new Set(mine.map((i) => i.version))] };
  });
  const problems: Problem[] = services
    .filter((s) => s.expected && s.instances === 0)
    .map((s) => ({ kind: "missing-service", service: s.name, message: `no live instance of ${s.name}` }));
  if (dlq.storedSince > 0) {
    const n = dlq.storedSince;
    problems.push({
      kind: "dead-letters",
      count: n,
      message: `${n} dead ${n === 1 ? "letter" : "letters"} stored ${w.dlqWindow} (farm dlq ls)`,
    });
  }
  return {
    time: new Date(now).toISOString(),
    nats,
    healthy: problems.length === 0,
    problems,
    services,
    instances,
    streams,
    lanes,
    dlq: { ...dlq, since: dlqSince.toISOString() },
    analyses: { since: w.inFlight.since(now).toISOString(), inFlight },
  };
}

// ---- printing --------------------------------------------------------------------------

/** 45s, 12m03s, 3h04m, 2d03h. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

const num8 = (n: number, w: number) => String(n).padStart(w);

export function renderStatus(s: StatusSnapshot): string {
  const lines = [`nats ${s.nats}  at ${s.time}`];
  lines.push(s.healthy ? "health: ok" : `health: FAILING: ${s.problems.map((p) => p.message).join("; ")}`, "");

  // One line per live instance, services in pipeline order; an expected one with none says so.
  lines.push(`${"service".padEnd(15)} ${"version".padEnd(8)} ${"uptime".padEnd(7)} ${"host".padEnd(16)} ${"pid".padEnd(7)} id`);
  for (const svc of s.services) {
    const mine = s.instances.filter((i) => i.service === svc.name);
    if (mine.length === 0) lines.push(`${svc.name.padEnd(15)} ${svc.expected ? "NO LIVE INSTANCE" : "-"}`);
    for (const i of mine)
      lines.push(
        `${svc.name.padEnd(15)} ${i.version.padEnd(8)} ${formatUptime(i.uptimeSeconds).padEnd(7)} ${i.host.padEnd(16)} ${String(i.pid).padEnd(7)} ${i.id}`,
      );
  }
  lines.push("");

  lines.push("stream     consumer                  messages  pending  ack-pending  redelivered");
  for (const st of s.streams) {
    lines.push(`${st.stream.padEnd(10)} ${"-".padEnd(24)} ${num8(st.messages, 9)}`);
    for (const c of st.consumers)
      lines.push(`${"".padEnd(10)} ${c.name.padEnd(24)} ${"".padEnd(9)} ${num8(c.pending, 7)} ${num8(c.ackPending, 12)} ${num8(c.redelivered, 12)}`);
  }
  lines.push("");
  if (s.lanes.length > 0) {
    lines.push("waiting by lane and tenant");
    for (const f of s.lanes) lines.push(`  ${f.subject.padEnd(22)} ${f.lane.padEnd(12)} ${f.tenant.padEnd(36)} ${num8(f.messages, 7)}`);
    lines.push("");
  }
  lines.push(`dead letters: ${s.dlq.messages}, ${s.dlq.storedSince} stored since ${s.dlq.since}${s.dlq.messages ? " (farm dlq ls)" : ""}`, "");

  lines.push(`analyses in flight (started since ${s.analyses.since}): ${s.analyses.inFlight.length}`);
  for (const a of s.analyses.inFlight) {
    const p = a.progress ? `  ${a.progress.sha.slice(0, 10)} ${a.progress.done}/${a.progress.total} files` : "";
    lines.push(`  ${a.repo}  ${a.sha.slice(0, 10)}  commits ${a.commits.done}/${a.commits.total}${p}  started ${a.startedAt}`);
  }
  return lines.join("\n") + "\n";
}

// ---- the command -----------------------------------------------------------------------

export async function statusCommand(flags: StatusFlags) {
  const expected = [...new Set([...SERVICE_NAMES, ...(flags.expect ?? [])])];
  const ctx = commandContext(flags);
  const farm = await connectClient(ctx, "farm-status");
  const nats = ctx.config.natsUrl ?? "";
  const write = writerTo(process.stdout);
  try {
    const inFlight = new AnalysesInFlight(new EventLog(farm.jsm), flags.inFlightWindow.ms);
    if (!flags.watch) {
      const s = await snapshot(farm, nats, {
        expected,
        dlqSince: (now) => new Date(now - flags.dlqWindow.ms),
        dlqWindow: `in the last ${flags.dlqWindow.text}`,
        inFlight,
      });
      await write(flags.json ? JSON.stringify(s, null, 2) + "\n" : renderStatus(s));
      if (!s.healthy) {
        process.stderr.write(`farm status: unhealthy: ${s.problems.map((p) => p.message).join("; ")}\n`);
        process.exitCode = EXIT.issuesFound;
      }
      return;
    }
    // Watching, "the DLQ grew" means: dead letters stored since the watch began.
    const began = new Date();
    const w: Watcher = { expected, dlqSince: () => began, dlqWindow: "since the watch began", inFlight };
    const tty = Boolean(process.stdout.isTTY);
    let stop = false;
    const stopped = Promise.race([untilSignal(), whenStdoutClosed()]).then(() => void (stop = true));
    let last: StatusSnapshot | undefined;
    let failed: unknown;
    while (!stop) {
      try {
        last = await snapshot(farm, nats, w);
        failed = undefined;
      } catch (err) {
        // One snapshot the cluster did not answer (a leader election, a reconnect) does not end the watch.
        failed = err;
        process.stderr.write(`farm status: ${errorLine(err)}\n`);
      }
      if (stop) break;
      if (failed === undefined && last) {
        if (flags.json) await write(JSON.stringify(last) + "\n");
        // A terminal is redrawn in place; anything else gets every snapshot appended, a blank line between.
        else await write(tty ? `\x1b[H\x1b[2J${renderStatus(last)}` : `${renderStatus(last)}\n`);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise((r) => (timer = setTimeout(r, flags.interval.ms)))]);
      clearTimeout(timer);
    }
    // The exit code says how the farm was when the watch ended.
    if (failed !== undefined) process.exitCode = exitCodeOf(failed);
    else if (last && !last.healthy) process.exitCode = EXIT.issuesFound;
  } finally {
    await farm.close();
  }
}
