/**
 * Webhooks that turn a push (or a pull request's new head) into a
 * `repo.new_sha` request: GitHub (`X-Hub-Signature-256`), GitLab (`X-Gitlab-Token`) and a generic
 * `POST /hooks/push` with a bearer token. Every secret is compared in constant
 * time, nothing is read before the caller is known to be allowed in (except the
 * body GitHub signs), and nothing is published unless the request is verified
 * and well-formed. Replies are JSON `{ok, published?, message?, error?}`.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCodes, FarmError, type Code } from "../../shared/fabric/errors.js";
import { validateSha } from "../../shared/git/validate.js";
import type { Logger } from "../../shared/fabric/logger.js";
import type { AnalysisRequest } from "../../shared/pipeline/contract.js";

export interface HookDeps {
  /** Queues the request (the web service: `farm.js.publish(subjects.newSha, encode(req, "json"))`). */
  publish(request: AnalysisRequest): Promise<void>;
  /** FARM_WEBHOOK_SECRET: GitHub's webhook secret. Unset: `/hooks/github` answers 404. */
  githubSecret?: string;
  /** FARM_GITLAB_TOKEN: GitLab's secret token. Unset: `/hooks/gitlab` answers 404. */
  gitlabToken?: string;
  /** FARM_WEB_TOKEN: the bearer token of `/hooks/push`. Unset: it answers 404. */
  pushToken?: string;
  /** Largest body read. Default 1 MiB (GitHub caps its payloads at 25 MB; a push with 2048 commits fits easily). */
  maxBodyBytes?: number;
  log: Pick<Logger, "info" | "warn">;
}

export interface HookReply {
  ok: boolean;
  published?: boolean;
  message?: string;
  error?: string;
}

export const HOOK_PATHS = { github: "/hooks/github", gitlab: "/hooks/gitlab", push: "/hooks/push" } as const;
export const DEFAULT_MAX_HOOK_BODY = 1024 * 1024;
/** GitHub lists at most 2048 commits per push; GitLab's count is capped the same so one push cannot ask for more. */
export const MAX_PUSH_COMMITS = 2048;

const MAX_REPO_LENGTH = 4096;
const ZERO_SHA_RE = /^0+$/;

/** A refused webhook: its HTTP status and a message safe to send back (never a secret). */
class HookError extends FarmError {
  constructor(
    readonly status: number,
    message: string,
    code: Code = ErrorCodes.InvalidInput,
  ) {
    super(message, code);
  }
}

/** `sha256=<hex HMAC-SHA256 of body>`: the value GitHub sends in `X-Hub-Signature-256`. */
export function githubSignature(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * Constant-time string equality. Both sides are hashed first, so the buffers
 * compared always have equal length: a wrong length is a mismatch (never a
 * throw from timingSafeEqual) and the secret's length does not leak.
 */
export function safeEqual(a: string, b: string): boolean {
  const h = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/**
 * Handles the webhook routes. Returns false when the path is not a hook (the
 * server then tries its other routes); otherwise answers and returns true.
 */
export async function handleHook(req: IncomingMessage, res: ServerResponse, deps: HookDeps): Promise<boolean> {
  const path = pathOf(req.url);
  const kind = (Object.keys(HOOK_PATHS) as (keyof typeof HOOK_PATHS)[]).find((k) => HOOK_PATHS[k] === path);
  if (!kind) return false;
  try {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      throw new HookError(405, `${path} takes POST only`);
    }
    const request = await (kind === "github" ? github(req, deps) : kind === "gitlab" ? gitlab(req, deps) : push(req, deps));
    if (typeof request === "string") {
      reply(res, request === "ping" ? 200 : 202, { ok: true, published: false, message: request });
      return true;
    }
    try {
      await deps.publish(request);
    } catch (err) {
      deps.log.warn({ err: (err as Error).message, hook: kind }, "webhook: could not publish repo.new_sha");
      throw new HookError(503, `could not queue the analysis: ${(err as Error).message}`, ErrorCodes.Farm);
    }
    deps.log.info({ hook: kind, repo: request.repo, sha: request.sha, history: request.history }, "webhook: queued an analysis");
    reply(res, 202, { ok: true, published: true, message: `queued ${request.sha} of ${request.repo}` });
  } catch (err) {
    if (!(err instanceof HookError)) throw err;
    if (err.status === 401) deps.log.warn({ hook: kind }, `webhook refused: ${err.message}`);
    if (err.status === 413) stopReading(req, res);
    reply(res, err.status, { ok: false, error: err.message });
  }
  return true;
}

/** Why a verified hook published nothing ("ping", an ignored event, a deletion), or the request to publish. */
type Outcome = AnalysisRequest | string;

async function github(req: IncomingMessage, deps: HookDeps): Promise<Outcome> {
  const secret = notConfigured(deps.githubSecret, "GitHub", "FARM_WEBHOOK_SECRET");
  // The signature covers the raw bytes: read them before anything else is trusted.
  const raw = await readBody(req, deps.maxBodyBytes ?? DEFAULT_MAX_HOOK_BODY);
  const given = header(req, "x-hub-signature-256");
  if (!given) throw new HookError(401, "missing X-Hub-Signature-256: set the webhook's secret in GitHub to FARM_WEBHOOK_SECRET", ErrorCodes.Unauthorized);
  if (!safeEqual(given, githubSignature(secret, raw)))
    throw new HookError(401, "X-Hub-Signature-256 does not match the body (is the secret the same on both sides?)", ErrorCodes.Unauthorized);
  const event = header(req, "x-github-event");
  if (event === "ping") return "ping";
  if (event === "pull_request") return githubPullRequest(object(parseGithubBody(raw, header(req, "content-type"))));
  if (event !== "push") return `ignored: event ${JSON.stringify(event ?? "")} (only push and pull_request are analyzed)`;
  const body = object(parseGithubBody(raw, header(req, "content-type")));
  const after = body.after;
  if (body.deleted === true || (typeof after === "string" && ZERO_SHA_RE.test(after))) return "ignored: a branch deletion";
  const commits = Array.isArray(body.commits) ? body.commits.length : 0;
  return request(object(body.repository, "repository").clone_url, after, body.ref, historyOf(commits));
}

/** Pull request actions that bring a head commit to analyse. */
const PULL_REQUEST_ACTIONS = new Set(["opened", "synchronize", "reopened"]);

/**
 * A pull request's head commit, from the base repository (which has it
 * under `refs/pull/<n>/head`, a fork's commits included), on its own: one
 * commit, so the interactive lane.
 */
function githubPullRequest(body: Record<string, unknown>): Outcome {
  const action = body.action;
  if (typeof action !== "string" || !PULL_REQUEST_ACTIONS.has(action)) return `ignored: pull_request action ${JSON.stringify(action ?? "")}`;
  const pr = object(body.pull_request, "pull_request");
  const number = typeof body.number === "number" && Number.isInteger(body.number) ? body.number : pr.number;
  const ref = typeof number === "number" && Number.isInteger(number) && number > 0 ? `refs/pull/${number}/head` : undefined;
  return request(object(object(pr.base, "pull_request.base").repo, "pull_request.base.repo").clone_url, object(pr.head, "pull_request.head").sha, ref, 0);
}

async function gitlab(req: IncomingMessage, deps: HookDeps): Promise<Outcome> {
  const token = notConfigured(deps.gitlabToken, "GitLab", "FARM_GITLAB_TOKEN");
  // Plain token in a header: check it before reading a byte of the body.
  const given = header(req, "x-gitlab-token");
  if (!given) throw new HookError(401, "missing X-Gitlab-Token: set the webhook's secret token in GitLab to FARM_GITLAB_TOKEN", ErrorCodes.Unauthorized);
  if (!safeEqual(given, token)) throw new HookError(401, "X-Gitlab-Token does not match", ErrorCodes.Unauthorized);
  const raw = await readBody(req, deps.maxBodyBytes ?? DEFAULT_MAX_HOOK_BODY);
  const event = header(req, "x-gitlab-event");
  if (event === "Merge Request Hook") return gitlabMergeRequest(object(parseJson(raw)));
  if (event !== "Push Hook") return `ignored: event ${JSON.stringify(event ?? "")} (only Push Hook and Merge Request Hook are analyzed)`;
  const body = object(parseJson(raw));
  const sha = body.checkout_sha ?? body.after;
  if (sha === null || (typeof body.after === "string" && ZERO_SHA_RE.test(body.after))) return "ignored: a branch deletion";
  const count = typeof body.total_commits_count === "number" && Number.isFinite(body.total_commits_count) ? body.total_commits_count : 0;
  return request(object(body.repository, "repository").git_http_url, sha, body.ref, historyOf(count));
}

/**
 * A merge request's head commit, from the target project (which has it under
 * `refs/merge-requests/<iid>/head`), when it is opened, reopened or given new
 * commits (an update with `oldrev`; a title edit has none).
 */
function gitlabMergeRequest(body: Record<string, unknown>): Outcome {
  const mr = object(body.object_attributes, "object_attributes");
  const action = mr.action;
  const newCommits = action === "open" || action === "reopen" || (action === "update" && typeof mr.oldrev === "string");
  if (!newCommits) return `ignored: merge request action ${JSON.stringify(action ?? "")} without new commits`;
  const iid = mr.iid;
  const ref = typeof iid === "number" && Number.isInteger(iid) && iid > 0 ? `refs/merge-requests/${iid}/head` : undefined;
  const project = object(body.project ?? mr.target, "project");
  return request(project.git_http_url, object(mr.last_commit, "object_attributes.last_commit").id, ref, 0);
}

async function push(req: IncomingMessage, deps: HookDeps): Promise<Outcome> {
  const token = notConfigured(deps.pushToken, "generic push", "FARM_WEB_TOKEN");
  const auth = header(req, "authorization");
  const given = auth?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!given) throw new HookError(401, "missing Authorization: Bearer <FARM_WEB_TOKEN>", ErrorCodes.Unauthorized);
  if (!safeEqual(given, token)) throw new HookError(401, "the bearer token does not match FARM_WEB_TOKEN", ErrorCodes.Unauthorized);
  const body = object(parseJson(await readBody(req, deps.maxBodyBytes ?? DEFAULT_MAX_HOOK_BODY)));
  const history = body.history ?? 0;
  if (typeof history !== "number" || !Number.isInteger(history) || history < 0) {
    throw new HookError(400, `"history" must be a non-negative integer (first-parent ancestors to analyze too), got ${JSON.stringify(history)}`);
  }
  return request(body.repo, body.sha, body.ref, history);
}

/** The request to publish, checked here so a bad push gets a 400 (ingest checks it again). */
function request(repo: unknown, sha: unknown, ref: unknown, history: number): AnalysisRequest {
  if (typeof repo !== "string" || repo === "" || repo.length > MAX_REPO_LENGTH) {
    throw new HookError(400, `"repo" must be a clone url (a non-empty string of at most ${MAX_REPO_LENGTH} characters)`);
  }
  let valid: string;
  try {
    valid = validateSha(sha);
  } catch (err) {
    throw new HookError(400, (err as Error).message);
  }
  const out: AnalysisRequest = { repo, sha: valid, history };
  if (typeof ref === "string" && ref !== "") out.ref = ref;
  return out;
}

/** The commits a push lists, as ancestors of its head to analyze too. */
function historyOf(commits: number): number {
  return Math.max(0, Math.min(Math.floor(commits), MAX_PUSH_COMMITS) - 1);
}

function notConfigured(secret: string | undefined, hook: string, env: string): string {
  if (!secret) throw new HookError(404, `the ${hook} webhook is not configured: set ${env} on the web service`, ErrorCodes.NotFound);
  return secret;
}

/**
 * The body, at most `max` bytes: a declared Content-Length over the cap is
 * refused before reading, and a streamed body stops being read at the cap.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = () => new HookError(413, `body larger than ${max} bytes`, ErrorCodes.TooLarge);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new HookError(400, `could not read the body: ${err.message}`));
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/**
 * After a 413, read no more of the body: the reply says `connection: close`,
 * and the socket is closed shortly after the reply is out (not at once: a reset
 * while the client is still sending could discard the reply before it reads it).
 */
function stopReading(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("connection", "close");
  res.once("finish", () => setTimeout(() => req.socket.destroy(), 1000).unref());
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HookError(400, "the body is not valid JSON", ErrorCodes.Decode);
  }
}

/** GitHub sends JSON, or `payload=<json>` when the hook's content type is form-encoded. */
function parseGithubBody(raw: Buffer, contentType: string | undefined): unknown {
  if (contentType?.startsWith("application/x-www-form-urlencoded")) {
    const payload = new URLSearchParams(raw.toString("utf8")).get("payload");
    if (payload === null) throw new HookError(400, "a form-encoded GitHub hook must carry a payload field");
    return parseJson(Buffer.from(payload));
  }
  return parseJson(raw);
}

function object(v: unknown, what = "the body"): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new HookError(400, `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? "/", "http://localhost").pathname;
  } catch {
    return "";
  }
}

function reply(res: ServerResponse, status: number, body: HookReply): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}
