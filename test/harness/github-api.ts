/**
 * A local HTTPS server that stands in for GitHub's REST API: every request
 * farm sends is checked against GitHub's published OpenAPI description
 * (@octokit/openapi, api.github.com) — the operation must exist, its path
 * parameters and JSON body must validate against the schemas (ajv) — and
 * recorded. It keeps check runs in memory as GitHub would (annotations
 * appended per update, max 50 per request by the schema itself), issues
 * installation tokens to a GitHub App (JWT checked against the App's public
 * key), and can be told to fail the next requests of an operation.
 */
import { createPublicKey, createVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { localCertificate } from "./tls.js";

interface Operation {
  method: string;
  template: string;
  operationId: string;
  pattern: RegExp;
  params: string[];
  /** Its validators, compiled when first used (the description has about a thousand operations). */
  check: Validators;
}

interface Validators {
  body(): ValidateFunction | undefined;
  pathParams(): Map<string, ValidateFunction>;
}

/** One request as the server saw it. */
export interface Recorded {
  method: string;
  path: string;
  operationId: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  authorization?: string;
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
}

/** What GitHub would keep of a check run. */
export interface CheckRun {
  id: number;
  owner: string;
  repo: string;
  name: string;
  head_sha: string;
  external_id?: string;
  status: string;
  conclusion?: string;
  details_url?: string;
  output: { title?: string; summary?: string; text?: string };
  annotations: Record<string, unknown>[];
}

/** A scripted failure: the next `times` requests of the operation get this status and headers (or, with `delayMs`, are answered that late). */
interface Fault {
  operationId: string;
  status: number;
  headers: Record<string, string>;
  times: number;
  delayMs?: number;
}

const require = createRequire(import.meta.url);
let operations: Operation[] | undefined;

/** The operations of GitHub's description, compiled once per process (the description is large). */
function loadOperations(): Operation[] {
  if (operations) return operations;
  const spec = JSON.parse(readFileSync(require.resolve("@octokit/openapi/generated/api.github.com.deref.json"), "utf8")) as {
    paths: Record<string, Record<string, SpecOperation>>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const out: Operation[] = [];
  for (const [template, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!op || typeof op !== "object" || !("operationId" in op)) continue;
      const params: string[] = [];
      const pattern = new RegExp(
        "^" +
          template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_m, name: string) => {
            params.push(name);
            return "([^/]+)";
          }) +
          "$",
      );
      out.push({ method: method.toUpperCase(), template, operationId: op.operationId, pattern, params, check: validators(ajv, op) });
    }
  }
  return (operations = out);
}

interface SpecOperation {
  operationId: string;
  parameters?: { name: string; in: string; schema?: object }[];
  requestBody?: { content?: Record<string, { schema?: object }> };
}

/** The body and path-parameter validators of an operation, compiled when first used. */
function validators(ajv: Ajv, op: SpecOperation): Validators {
  let body: ValidateFunction | undefined;
  let pathParams: Map<string, ValidateFunction> | undefined;
  const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
  return {
    body: () => (bodySchema ? (body ??= ajv.compile(openApiSchema(bodySchema))) : undefined),
    pathParams: () =>
      (pathParams ??= new Map((op.parameters ?? []).filter((p) => p.in === "path" && p.schema).map((p) => [p.name, ajv.compile(openApiSchema(p.schema!))]))),
  };
}

/** An OpenAPI 3.0 schema as JSON Schema: `nullable` without a `type` (any value, null included) says nothing more. */
function openApiSchema(schema: object): object {
  return JSON.parse(JSON.stringify(schema), (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v) && "nullable" in v && !("type" in v)) {
      const rest = { ...(v as Record<string, unknown>) };
      delete rest.nullable;
      return rest;
    }
    return v;
  }) as object;
}

export class GitHubApi {
  readonly requests: Recorded[] = [];
  /** Requests GitHub's description would refuse, with why: a test expects none. */
  readonly violations: string[] = [];
  readonly checkRuns: CheckRun[] = [];
  private readonly faults: Fault[] = [];
  private server!: https.Server;
  url!: string;
  /** A PEM file with the server's certificate, for FARM_REPORTER_CA_FILE. */
  caFile!: string;
  /** The App whose JWTs are accepted, and its installation tokens' lifetime (ms). */
  private app?: { id: string; publicKey: string; installationId: number; tokenTtlMs: number };
  /** Installation tokens issued, newest last. */
  readonly tokens: { token: string; expiresAt: number }[] = [];
  private nextId = 1000;

  static async start(dir: string): Promise<GitHubApi> {
    const api = new GitHubApi();
    loadOperations();
    const tls = await localCertificate(dir, "github-api");
    api.caFile = tls.caFile;
    api.server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => void api.handle(req, res));
    await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
    api.url = `https://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  /** Accepts JWTs of this App (RS256, its public key) and gives installation tokens that live `tokenTtlMs`. */
  acceptApp(id: string, publicKeyPem: string, installationId: number, tokenTtlMs = 3600_000): void {
    this.app = { id, publicKey: publicKeyPem, installationId, tokenTtlMs };
  }

  /** Back to personal tokens: any `token …` is accepted. */
  forgetApp(): void {
    this.app = undefined;
  }

  /** The next `times` requests of `operationId` answer `status` with `headers`. */
  fail(operationId: string, status: number, headers: Record<string, string> = {}, times = 1): void {
    this.faults.push({ operationId, status, headers, times });
  }

  /** The next `times` requests of `operationId` are handled as usual, but answered `ms` later. */
  delay(operationId: string, ms: number, times = 1): void {
    this.faults.push({ operationId, status: 0, headers: {}, times, delayMs: ms });
  }

  of(operationId: string): Recorded[] {
    return this.requests.filter((r) => r.operationId === operationId);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(body));
      return status;
    };
    const op = loadOperations().find((o) => o.method === method && o.pattern.test(url.pathname));
    const record: Recorded = {
      method,
      path: url.pathname,
      operationId: op?.operationId ?? "(none)",
      params: {},
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      authorization: req.headers.authorization,
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);
    if (!op) {
      this.violations.push(`${method} ${url.pathname}: no such operation in GitHub's API description`);
      record.status = send(404, { message: "Not Found" });
      return;
    }
    const m = op.pattern.exec(url.pathname)!;
    op.params.forEach((name, i) => (record.params[name] = decodeURIComponent(m[i + 1])));
    for (const [name, validate] of op.check.pathParams()) {
      const raw = record.params[name];
      // Path parameters arrive as text: an integer parameter is its digits.
      if (!validate(raw) && !(/^\d+$/.test(raw ?? "") && validate(Number(raw))))
        this.violations.push(`${op.operationId}: path parameter ${name}=${record.params[name]}: ${JSON.stringify(validate.errors)}`);
    }
    if (raw) {
      try {
        record.body = JSON.parse(raw);
      } catch {
        this.violations.push(`${op.operationId}: the body is not JSON`);
      }
    }
    const validate = op.check.body();
    if (validate && !validate(record.body ?? {})) {
      this.violations.push(`${op.operationId}: ${JSON.stringify(validate.errors)}`);
      record.status = send(422, { message: "Validation Failed", errors: validate.errors });
      return;
    }
    const fault = this.faults.find((f) => f.operationId === op.operationId && f.times > 0);
    if (fault) {
      fault.times--;
      if (fault.delayMs !== undefined) await new Promise((r) => setTimeout(r, fault.delayMs));
      else {
        record.status = send(fault.status, { message: `scripted ${fault.status}` }, fault.headers);
        return;
      }
    }
    record.status = this.answer(op.operationId, record, send);
  }

  /** A small GitHub: check runs, an App's installation and its tokens. */
  private answer(operationId: string, r: Recorded, send: (status: number, body: unknown, headers?: Record<string, string>) => number): number {
    const { owner, repo } = r.params;
    const body = (r.body ?? {}) as Record<string, unknown>;
    switch (operationId) {
      case "apps/get-repo-installation":
        if (!this.appJwtValid(r.authorization)) return send(401, { message: "A JSON web token could not be decoded" });
        return send(200, { id: this.app!.installationId, app_id: Number(this.app!.id), account: { login: owner } });
      case "apps/create-installation-access-token": {
        if (!this.appJwtValid(r.authorization)) return send(401, { message: "A JSON web token could not be decoded" });
        const token = `ghs_${this.nextId++}installationtoken`;
        const expiresAt = Date.now() + this.app!.tokenTtlMs;
        this.tokens.push({ token, expiresAt });
        return send(201, {
          token,
          expires_at: new Date(expiresAt).toISOString(),
          permissions: { checks: "write", contents: "read" },
          repository_selection: "all",
        });
      }
      case "checks/create": {
        if (!this.tokenValid(r.authorization)) return send(401, { message: "Bad credentials" });
        const run: CheckRun = {
          id: this.nextId++,
          owner,
          repo,
          name: String(body.name),
          head_sha: String(body.head_sha),
          external_id: body.external_id as string | undefined,
          status: (body.conclusion ? "completed" : (body.status as string)) ?? "queued",
          conclusion: body.conclusion as string | undefined,
          details_url: body.details_url as string | undefined,
          output: { ...((body.output as object) ?? {}) },
          annotations: [...(((body.output as { annotations?: [] })?.annotations ?? []) as Record<string, unknown>[])],
        };
        delete (run.output as Record<string, unknown>).annotations;
        this.checkRuns.push(run);
        return send(201, this.view(run));
      }
      case "checks/update": {
        if (!this.tokenValid(r.authorization)) return send(401, { message: "Bad credentials" });
        const run = this.checkRuns.find((c) => c.id === Number(r.params.check_run_id) && c.owner === owner && c.repo === repo);
        if (!run) return send(404, { message: "Not Found" });
        const output = (body.output ?? {}) as Record<string, unknown>;
        run.annotations.push(...((output.annotations ?? []) as Record<string, unknown>[]));
        const rest = { ...output };
        delete rest.annotations;
        Object.assign(run.output, rest);
        if (body.status) run.status = String(body.status);
        if (body.conclusion) {
          run.conclusion = String(body.conclusion);
          run.status = "completed";
        }
        if (body.details_url) run.details_url = String(body.details_url);
        return send(200, this.view(run));
      }
      case "checks/get": {
        if (!this.tokenValid(r.authorization)) return send(401, { message: "Bad credentials" });
        const run = this.checkRuns.find((c) => c.id === Number(r.params.check_run_id) && c.owner === owner && c.repo === repo);
        return run ? send(200, this.view(run)) : send(404, { message: "Not Found" });
      }
      case "checks/list-for-ref": {
        if (!this.tokenValid(r.authorization)) return send(401, { message: "Bad credentials" });
        const runs = this.checkRuns.filter(
          (c) => c.owner === owner && c.repo === repo && c.head_sha === r.params.ref && (!r.query.check_name || c.name === r.query.check_name),
        );
        return send(200, { total_count: runs.length, check_runs: runs.map((c) => this.view(c)) });
      }
      default:
        return send(501, { message: `${operationId} is not answered by this test server` });
    }
  }

  private view(c: CheckRun): Record<string, unknown> {
    return {
      id: c.id,
      name: c.name,
      head_sha: c.head_sha,
      external_id: c.external_id ?? null,
      status: c.status,
      conclusion: c.conclusion ?? null,
      details_url: c.details_url ?? null,
      // As GitHub answers: the annotations posted so far are counted (what a restarted reporter resumes from).
      output: {
        title: c.output.title ?? null,
        summary: c.output.summary ?? null,
        text: c.output.text ?? null,
        annotations_count: c.annotations.length,
        annotations_url: `${this.url}/repos/${c.owner}/${c.repo}/check-runs/${c.id}/annotations`,
      },
    };
  }

  /** A token farm may use: a personal token (any `token …` without an App), or an unexpired installation token of the App. */
  private tokenValid(auth: string | undefined): boolean {
    const token = /^(?:token|bearer) (\S+)$/i.exec(auth ?? "")?.[1];
    if (!token) return false;
    if (!this.app) return true;
    const issued = this.tokens.find((t) => t.token === token);
    return issued !== undefined && issued.expiresAt > Date.now();
  }

  /** A JWT signed by the App's key, issued by its id, not expired. */
  private appJwtValid(auth: string | undefined): boolean {
    const jwt = /^bearer (\S+)$/i.exec(auth ?? "")?.[1];
    if (!jwt || !this.app) return false;
    const [head, payload, signature] = jwt.split(".");
    const verify = createVerify("RSA-SHA256");
    verify.update(`${head}.${payload}`);
    if (!verify.verify(createPublicKey(this.app.publicKey), Buffer.from(signature, "base64url"))) return false;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iss: string | number; exp: number };
    return String(claims.iss) === this.app.id && claims.exp * 1000 > Date.now();
  }
}
