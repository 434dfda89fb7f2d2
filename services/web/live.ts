/**
 * Analyses in progress, from `repo.analysis.*` events, and the browsers
 * watching them over Server-Sent Events. Any client may publish these
 * events, so every field is checked before it is used.
 */
import type { ServerResponse } from "node:http";
import type { Subscription } from "@nats-io/transport-node";
import type { Farm } from "../../shared/fabric/farm.js";
import { subjects } from "../../shared/pipeline/names.js";

export interface LiveAnalysis {
  repo: string;
  /** The requested commits (from ingest's started event); empty until known. */
  commits: string[];
  completed: number;
  failed: number;
  /** The commit being linted now and its files so far. */
  current: { sha: string; done: number; total: number } | null;
  state: "running" | "done" | "failed";
  /** 0..1 over the whole request. */
  progress: number;
  reason?: string;
  updatedAt: string;
}

/** Finished analyses kept on the page, newest first. */
const KEEP_FINISHED = 10;
/** A comment line every so often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

export class LiveFeed {
  private readonly analyses = new Map<string, LiveAnalysis>();
  private readonly clients = new Set<ServerResponse>();
  private sub?: Subscription;
  private keepalive?: NodeJS.Timeout;

  constructor(private readonly farm: Farm) {}

  start(): void {
    this.sub = this.farm.events.subscribe<Record<string, unknown>>(`${subjects.analysis}.>`, (e, subject) => this.onEvent(subject, e));
    this.keepalive = setInterval(() => this.broadcast(": keepalive\n\n"), KEEPALIVE_MS);
  }

  list(): LiveAnalysis[] {
    return [...this.analyses.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  /** Takes over `res` as an event stream: the current list first, then every change. */
  attach(res: ServerResponse): void {
    res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", Connection: "keep-alive" });
    res.write(`event: snapshot\ndata: ${JSON.stringify(this.list())}\n\n`);
    this.clients.add(res);
    res.on("close", () => this.clients.delete(res));
  }

  close(): void {
    this.sub?.unsubscribe();
    clearInterval(this.keepalive);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private onEvent(subject: string, e: Record<string, unknown>): void {
    const repo = str(e.repo);
    if (!repo) return;
    const a = this.analysisOf(repo, subject === subjects.started && Array.isArray(e.commits));
    const sha = str(e.sha);
    if (subject === subjects.started && Array.isArray(e.commits)) a.commits = e.commits.filter((c): c is string => typeof c === "string");
    else if (subject === subjects.started && sha) a.current = { sha, done: 0, total: num(e.files) ?? 0 };
    else if (subject === subjects.progress && sha) a.current = { sha, done: num(e.done) ?? 0, total: num(e.total) ?? 0 };
    else if (subject === subjects.completed && e.requested !== false) {
      a.completed++;
      // Its files are all done: only a commit still linting counts as a part.
      if (a.current?.sha === sha) a.current = null;
    } else if (subject === subjects.failed) {
      a.failed++;
      a.reason = str(e.reason);
    } else if (subject !== subjects.completed) return;
    this.update(a);
  }

  /** The repository's running analysis; a new one when a new request starts or none runs. */
  private analysisOf(repo: string, newRequest: boolean): LiveAnalysis {
    const a = this.analyses.get(repo);
    if (a && a.state === "running" && !newRequest) return a;
    const fresh: LiveAnalysis = { repo, commits: [], completed: 0, failed: 0, current: null, state: "running", progress: 0, updatedAt: "" };
    this.analyses.delete(repo);
    this.analyses.set(repo, fresh);
    return fresh;
  }

  private update(a: LiveAnalysis): void {
    const total = Math.max(a.commits.length, a.completed + a.failed, 1);
    const partial = a.current && a.current.total > 0 ? Math.min(a.current.done / a.current.total, 1) : 0;
    const finished = a.commits.length > 0 && a.completed + a.failed >= a.commits.length;
    a.state = finished ? (a.failed > 0 ? "failed" : "done") : a.failed > 0 && a.commits.length === 0 ? "failed" : "running";
    // Never backwards: commits run in parallel, so "the current one" changes under the bar.
    a.progress = a.state === "running" ? Math.max(a.progress, Math.min((a.completed + a.failed + partial) / total, 0.99)) : 1;
    a.updatedAt = new Date().toISOString();
    this.prune();
    this.broadcast(`event: analysis\ndata: ${JSON.stringify(a)}\n\n`);
  }

  private prune(): void {
    const finished = this.list().filter((a) => a.state !== "running");
    for (const a of finished.slice(KEEP_FINISHED)) this.analyses.delete(a.repo);
  }

  private broadcast(chunk: string): void {
    for (const res of this.clients) res.write(chunk);
  }
}
