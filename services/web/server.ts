/**
 * The HTTP side, on node:http: security headers on every answer, webhooks
 * first, then static files, then the read check, then one handler per route.
 * A page is built whole before anything is sent, so a failed read becomes an
 * error page, never half a page.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { ErrorCodes, FarmError, RemoteError } from "../../shared/fabric/errors.js";
import type { Farm } from "../../shared/fabric/farm.js";
import type { Asset } from "./assets.js";
import type { Auth } from "./auth.js";
import type { HistoryClient } from "./history.js";
import { html } from "./html.js";
import { page } from "./layout.js";
import type { LiveFeed } from "./live.js";
import { commitDownload, commitPage } from "./pages/commit.js";
import { isBranchName } from "../../shared/pipeline/branches.js";
import { BADGE_MAX_AGE, badgeRepo, Badges } from "./badge.js";
import { filePage } from "./pages/file.js";
import { livePage } from "./pages/live.js";
import { opsPage, type OpsNotice } from "./pages/ops.js";
import { repoPage } from "./pages/repo.js";
import { reposPage } from "./pages/repos.js";

/** Mounted at `/hooks/`: answers the request and says true, or false for a path it does not serve. */
export type HookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface WebDeps {
  farm: Farm;
  history: HistoryClient;
  live: LiveFeed;
  auth: Auth;
  assets: Map<string, Asset>;
  log: Logger;
  hooks?: HookHandler;
}

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

type Route = (r: Request) => Promise<void>;

/** Scripts, styles, images, connections: this origin only; no inline script, no framing. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/** A replay form is a few fields. */
const MAX_FORM_BYTES = 16 * 1024;

/** A request the page cannot answer: shown to the reader with its status. */
class HttpError extends FarmError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message, status === 404 ? ErrorCodes.NotFound : ErrorCodes.InvalidInput);
  }
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader("Content-Security-Policy", CSP);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...headers });
  res.end(body);
}

const sendHtml = (res: ServerResponse, body: string, status = 200) => send(res, status, "text/html; charset=utf-8", body);

function param(url: URL, name: string): string {
  const v = url.searchParams.get(name);
  if (!v || v.length > 4096) throw new HttpError(400, `the "${name}" parameter is missing`);
  return v;
}

function shaParam(url: URL, name = "sha"): string {
  const v = param(url, name);
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(v)) throw new HttpError(400, `"${name}" must be a full commit id`);
  return v;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, "the form is too large");
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function errorPage(res: ServerResponse, status: number, title: string, detail: string): void {
  const body = html`<div class="card empty error-card">
    <h1>${title}</h1>
    <p>${detail}</p>
    <p><a href="/">Back to the repositories</a></p>
  </div>`;
  sendHtml(res, page({ title, body }), status);
}

/** What a failed read tells the reader: not found, bad input, or the service behind it being away. */
function failure(res: ServerResponse, err: unknown, log: Logger): void {
  if (err instanceof HttpError) return errorPage(res, err.status, err.status === 404 ? "Not found" : "Bad request", err.message);
  if (err instanceof RemoteError && err.code === ErrorCodes.NotFound) return errorPage(res, 404, "Not found", err.message);
  if (err instanceof RemoteError && err.permanent) return errorPage(res, 400, "Bad request", err.message);
  if (err instanceof FarmError && (err.code === ErrorCodes.NoResponders || err.code === ErrorCodes.Timeout))
    return errorPage(res, 503, "Not available", `${err.message}. Is the aggregator running?`);
  log.warn({ err: (err as Error).message }, "web request failed");
  errorPage(res, 500, "Something went wrong", (err as Error).message ?? String(err));
}

function opsNotice(url: URL): OpsNotice | undefined {
  const replayed = url.searchParams.get("replayed");
  if (replayed !== null) return { kind: "ok", text: `Replayed ${Number(replayed) || 0} dead letter${replayed === "1" ? "" : "s"}.` };
  return undefined;
}

export function createHandler(deps: WebDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { history, farm, live, auth } = deps;
  const badges = new Badges(history);

  const replay: Route = async ({ req, res }) => {
    const form = await readForm(req);
    if (!auth.operatorEnabled) throw new HttpError(403, "operator actions are off: start the web app with FARM_WEB_TOKEN set");
    if (!auth.mayAct(req, form.get("token") ?? undefined)) return errorPage(res, 403, "Forbidden", "Replaying needs the operator token.");
    const seq = form.get("seq") ?? "";
    if (seq !== "all" && !/^\d+$/.test(seq)) throw new HttpError(400, `"seq" must be a dead-letter number or "all"`);
    const done = await farm.dlq.replay(seq === "all" ? { all: true } : { seqs: [Number(seq)] });
    deps.log.info({ seq, replayed: done.length }, "dead letters replayed from the web app");
    send(res, 303, "text/plain; charset=utf-8", "replayed", { Location: `/ops?replayed=${done.length}` });
  };

  const routes: Record<string, Route> = {
    "GET /": async ({ res }) => sendHtml(res, await reposPage(history)),
    "GET /repo": async ({ res, url }) =>
      sendHtml(res, await repoPage(history, param(url, "repo"), url.searchParams.get("from") ? shaParam(url, "from") : undefined)),
    "GET /commit": async ({ res, url }) => sendHtml(res, await commitPage(history, param(url, "repo"), shaParam(url))),
    "GET /commit.json": async ({ res, url }) => downloadOf(res, url, "json"),
    "GET /commit.sarif": async ({ res, url }) => downloadOf(res, url, "sarif"),
    "GET /file": async ({ res, url }) => sendHtml(res, await filePage(history, param(url, "repo"), shaParam(url), param(url, "path"))),
    "GET /live": ({ res }) => Promise.resolve(sendHtml(res, livePage(live))),
    "GET /events": ({ res }) => Promise.resolve(live.attach(res)),
    "GET /ops": async ({ res, url }) => sendHtml(res, await opsPage(farm, auth.operatorEnabled, opsNotice(url))),
    "POST /ops/replay": replay,
  };

  async function downloadOf(res: ServerResponse, url: URL, kind: "json" | "sarif"): Promise<void> {
    const sha = shaParam(url);
    const body = await commitDownload(history, param(url, "repo"), sha, kind);
    const type = kind === "sarif" ? "application/sarif+json" : "application/json";
    send(res, 200, `${type}; charset=utf-8`, body, { "Content-Disposition": `attachment; filename="${sha}.${kind}"` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res);
    const url = new URL(req.url ?? "/", "http://web.invalid");
    // Webhooks carry their own authentication (a signature or a token).
    if (url.pathname.startsWith("/hooks/")) {
      if (deps.hooks && (await deps.hooks(req, res))) return;
      return errorPage(res, 404, "Not found", `no webhook at ${url.pathname}`);
    }
    const asset = deps.assets.get(url.pathname);
    if (asset && req.method === "GET") return send(res, 200, asset.type, asset.body, { "Cache-Control": "public, max-age=300" });
    // Probes: says only that the server answers.
    if (url.pathname === "/healthz") return send(res, 200, "text/plain; charset=utf-8", "ok\n");
    const queryToken = url.searchParams.get("token");
    if (!auth.mayRead(req, queryToken)) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="farm"');
      return errorPage(res, 401, "Token required", "This farm is not public: open the page with ?token=… (FARM_WEB_TOKEN) or send Authorization: Bearer.");
    }
    if (queryToken && auth.readsNeedToken && auth.matches(queryToken)) res.setHeader("Set-Cookie", auth.cookieFor(queryToken));
    const badgeOf = req.method === "GET" ? badgeRepo(url.pathname) : null;
    if (badgeOf !== null) {
      const branch = url.searchParams.get("branch") ?? undefined;
      if (branch !== undefined && !isBranchName(branch))
        return errorPage(res, 400, "Bad branch", `"branch" must be a branch name like main (not refs/heads/main)`);
      const badge = await badges.of(badgeOf, branch);
      const headers = { "Cache-Control": `public, max-age=${BADGE_MAX_AGE}`, ETag: badge.etag };
      if (req.headers["if-none-match"] === badge.etag) return send(res, 304, "image/svg+xml; charset=utf-8", "", headers);
      return send(res, badge.status, "image/svg+xml; charset=utf-8", badge.svg, headers);
    }
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) return errorPage(res, 404, "Not found", `nothing at ${url.pathname}`);
    await route({ req, res, url });
  }

  return (req, res) => {
    handle(req, res).catch((err) => {
      if (res.headersSent) return void res.end();
      failure(res, err, deps.log);
    });
  };
}
