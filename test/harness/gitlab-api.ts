/**
 * A local HTTPS server standing in for GitLab's commit status endpoint
 * (`POST /api/v4/projects/:id/statuses/:sha`), checking each request against
 * its documented fields: a token in `PRIVATE-TOKEN`, `state` one of GitLab's,
 * every other field one the documentation names, with its type. It keeps the
 * statuses per commit as GitLab would (the latest per name), records every
 * request, and can be told to fail the next ones.
 */
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { localCertificate } from "./tls.js";

/** The endpoint's documented parameters (docs.gitlab.com/api/commits, "Set the pipeline status of a commit"), by type. */
const FIELDS: Record<string, "string" | "number"> = {
  state: "string",
  ref: "string",
  name: "string",
  context: "string",
  target_url: "string",
  description: "string",
  coverage: "number",
  pipeline_id: "number",
};
const STATES = ["pending", "running", "success", "failed", "canceled", "skipped"];

export interface GitLabStatus {
  project: string;
  sha: string;
  state: string;
  name: string;
  target_url?: string;
  description?: string;
}

export class GitLabApi {
  readonly requests: { path: string; status: number; body: unknown; token?: string }[] = [];
  readonly violations: string[] = [];
  /** Every status set, in order. */
  readonly statuses: GitLabStatus[] = [];
  private readonly faults: { status: number; times: number }[] = [];
  private server!: https.Server;
  url!: string;
  caFile!: string;

  static async start(dir: string, token: string): Promise<GitLabApi> {
    const api = new GitLabApi();
    const tls = await localCertificate(dir, "gitlab-api");
    api.caFile = tls.caFile;
    api.server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => void api.handle(req, res, token));
    await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
    api.url = `https://127.0.0.1:${(api.server.address() as AddressInfo).port}/api/v4`;
    return api;
  }

  /** The latest status of `sha` (by any name). */
  latest(sha: string): GitLabStatus | undefined {
    return this.statuses.filter((s) => s.sha === sha).at(-1);
  }

  fail(status: number, times = 1): void {
    this.faults.push({ status, times });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
      return status;
    };
    const path = new URL(req.url ?? "/", this.url).pathname;
    const record = { path, status: 0, body: undefined as unknown, token: req.headers["private-token"] as string | undefined };
    this.requests.push(record);
    const m = /^\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]{40}|[0-9a-f]{64})$/.exec(path);
    if (req.method !== "POST" || !m) {
      this.violations.push(`${req.method} ${path}: not the commit status endpoint`);
      record.status = send(404, { message: "404 Not Found" });
      return;
    }
    if (record.token !== token) {
      record.status = send(401, { message: "401 Unauthorized" });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    } catch {
      this.violations.push(`${path}: the body is not JSON`);
      record.status = send(400, { message: "400 Bad request" });
      return;
    }
    record.body = body;
    const wrong = Object.entries(body).filter(([k, v]) => !(k in FIELDS) || typeof v !== FIELDS[k]);
    if (wrong.length > 0 || !STATES.includes(body.state as string) || (typeof body.description === "string" && body.description.length > 255)) {
      this.violations.push(`${path}: ${JSON.stringify(body)} is not what the endpoint documents`);
      record.status = send(400, { message: "400 Bad request" });
      return;
    }
    const fault = this.faults.find((f) => f.times > 0);
    if (fault) {
      fault.times--;
      record.status = send(fault.status, { message: `scripted ${fault.status}` });
      return;
    }
    const status: GitLabStatus = {
      project: decodeURIComponent(m[1]),
      sha: m[2],
      state: body.state as string,
      name: (body.name as string) ?? (body.context as string) ?? "default",
      ...(body.target_url ? { target_url: body.target_url as string } : {}),
      ...(body.description ? { description: body.description as string } : {}),
    };
    this.statuses.push(status);
    record.status = send(201, { id: this.statuses.length, sha: status.sha, status: status.state, name: status.name });
  }
}
