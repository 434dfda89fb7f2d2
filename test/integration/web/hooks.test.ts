/**
 * The webhooks against a real HTTP server and a real nats-server: what a hook
 * publishes is read back from the REPOS stream, so "nothing published" is the
 * stream's own count, not a stand-in's.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { decode, encode } from "../../../shared/fabric/index.js";
import { subjects } from "../../../shared/pipeline/names.js";
import type { AnalysisRequest } from "../../../shared/pipeline/contract.js";
import { githubSignature, handleHook, safeEqual, type HookDeps } from "../../../services/web/hooks.js";
import { quietLog, useFarms } from "../../harness/farms.js";

const env = useFarms(["web"] as const, { pipeline: true });
const SECRET = "gh-secret-for-tests";
const GITLAB = "gitlab-token-for-tests";
const TOKEN = "push-token-for-tests";
const SHA = "a".repeat(40);
const SHA2 = "0123456789abcdef".repeat(4);
const CLONE = "https://github.com/octo/hello.git";

let deps: HookDeps;
let server: Server;
let base: string;

function configured(over: Partial<HookDeps> = {}): HookDeps {
  return {
    // What the web service passes: a real JetStream publish of repo.new_sha.
    publish: async (req) => void (await env.web.js.publish(subjects.newSha, encode(req, "json"))),
    githubSecret: SECRET,
    gitlabToken: GITLAB,
    pushToken: TOKEN,
    maxBodyBytes: 16 * 1024,
    log: quietLog("web"),
    ...over,
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handleHook(req, res, deps).then(
      (handled) => {
        if (!handled) res.writeHead(404, { "content-type": "text/plain" }).end("not a hook");
      },
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  deps = configured();
});

/** repo.new_sha messages in the REPOS stream (no ingest runs here, so none are taken). */
async function published(): Promise<number> {
  const info = await env.web.jsm.streams.info("REPOS");
  return info.state.messages;
}

async function lastPublished(): Promise<AnalysisRequest> {
  const m = await env.web.jsm.streams.getMessage("REPOS", { last_by_subj: subjects.newSha });
  return decode<AnalysisRequest>(m!.data);
}

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as { ok: boolean; published?: boolean; error?: string; message?: string } };
}

function githubPush(over: Record<string, unknown> = {}) {
  return JSON.stringify({
    ref: "refs/heads/main",
    before: "b".repeat(40),
    after: SHA,
    repository: { clone_url: CLONE, full_name: "octo/hello" },
    commits: [{ id: "c".repeat(40) }, { id: "d".repeat(40) }, { id: SHA }],
    forced: false,
    deleted: false,
    ...over,
  });
}

function signed(body: string, event = "push", secret = SECRET) {
  return { "x-github-event": event, "x-hub-signature-256": githubSignature(secret, body) };
}

/** Asserts that `fn` publishes exactly `n` messages (read back from the stream after the reply). */
async function publishes<T>(n: number, fn: () => Promise<T>): Promise<T> {
  const before = await published();
  const out = await fn();
  expect(await published()).toBe(before + n);
  return out;
}

describe("signatures", () => {
  test("GitHub's documented test vector", () => {
    expect(githubSignature("It's a Secret to Everybody", "Hello, World!")).toBe("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    expect(githubSignature("It's a Secret to Everybody", Buffer.from("Hello, World!"))).toBe(
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
  });

  test("safeEqual: a different length is a mismatch, not a throw", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "x")).toBe(false);
  });
});

describe("POST /hooks/github", () => {
  test("a signed push publishes one request with the clone url, the head sha, the ref and the commit count as history", async () => {
    const body = githubPush();
    const r = await publishes(1, () => post("/hooks/github", body, signed(body)));
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ ok: true, published: true });
    expect(await lastPublished()).toEqual({ repo: CLONE, sha: SHA, ref: "refs/heads/main", history: 2 });
  });

  test("history is capped at GitHub's 2048 commits and is 0 for a push listing none", async () => {
    const many = githubPush({ after: SHA2, commits: Array.from({ length: 3000 }, () => ({})) });
    const big = await publishes(1, () => post("/hooks/github", many, signed(many)));
    expect(big.status).toBe(202);
    expect((await lastPublished()).history).toBe(2047);
    const none = githubPush({ commits: [] });
    await publishes(1, () => post("/hooks/github", none, signed(none)));
    expect((await lastPublished()).history).toBe(0);
  });

  test("a wrong signature is 401 and publishes nothing, and the reply does not echo the secret", async () => {
    const body = githubPush();
    const r = await publishes(0, () => post("/hooks/github", body, signed(body, "push", "not-the-secret")));
    expect(r.status).toBe(401);
    expect(r.json.ok).toBe(false);
    expect(r.text).not.toContain(SECRET);
  });

  test("a signature of another body, a truncated one or a bare hex digest is 401", async () => {
    const body = githubPush();
    const good = githubSignature(SECRET, body);
    for (const sig of [githubSignature(SECRET, body + " "), good.slice(0, -1), good.slice("sha256=".length), "sha256=", "sha1=" + "0".repeat(40)]) {
      const r = await publishes(0, () => post("/hooks/github", body, { "x-github-event": "push", "x-hub-signature-256": sig }));
      expect(r.status, sig).toBe(401);
    }
  });

  test("a missing signature is 401 and publishes nothing", async () => {
    const r = await publishes(0, () => post("/hooks/github", githubPush(), { "x-github-event": "push" }));
    expect(r.status).toBe(401);
    expect(r.json.error).toMatch(/X-Hub-Signature-256/);
  });

  test("ping is 200 and publishes nothing", async () => {
    const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    const r = await publishes(0, () => post("/hooks/github", body, signed(body, "ping")));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, published: false });
  });

  test("a branch deletion publishes nothing, whether it says deleted or only has a zero after", async () => {
    for (const over of [{ deleted: true, after: "0".repeat(40), commits: [] }, { after: "0".repeat(40) }]) {
      const body = githubPush(over);
      const r = await publishes(0, () => post("/hooks/github", body, signed(body)));
      expect(r.status).toBe(202);
      expect(r.json).toMatchObject({ ok: true, published: false, message: expect.stringMatching(/deletion/) as unknown });
    }
  });

  test("a pull request opened or synchronized publishes its head commit alone, from the base repository, with its pull ref", async () => {
    const pr = (action: string) =>
      JSON.stringify({
        action,
        number: 7,
        pull_request: { number: 7, head: { sha: SHA2, repo: { clone_url: "https://github.com/fork/hello.git" } }, base: { repo: { clone_url: CLONE } } },
      });
    for (const action of ["opened", "synchronize"]) {
      const body = pr(action);
      const r = await publishes(1, () => post("/hooks/github", body, signed(body, "pull_request")));
      expect(r.status).toBe(202);
      expect(await lastPublished()).toEqual({ repo: CLONE, sha: SHA2, ref: "refs/pull/7/head", history: 0 });
    }
    // Closing, labelling, editing: no new head, nothing to analyse.
    for (const action of ["closed", "labeled", "edited"]) {
      const body = pr(action);
      const r = await publishes(0, () => post("/hooks/github", body, signed(body, "pull_request")));
      expect(r.json).toMatchObject({ ok: true, published: false });
    }
  });

  test("another event is 202 and publishes nothing", async () => {
    const body = JSON.stringify({ action: "opened" });
    const r = await publishes(0, () => post("/hooks/github", body, signed(body, "issues")));
    expect(r.status).toBe(202);
    expect(r.json.published).toBe(false);
  });

  test("a signed body that is not JSON is 400; a push without a valid sha or repo is 400; nothing published", async () => {
    const cases = ["{not json", githubPush({ after: "abc123" }), githubPush({ repository: { clone_url: 42 } }), githubPush({ repository: null })];
    for (const body of cases) {
      const r = await publishes(0, () => post("/hooks/github", body, signed(body)));
      expect(r.status, body.slice(0, 40)).toBe(400);
      expect(r.json.ok).toBe(false);
    }
  });

  test("a form-encoded delivery is verified over its raw bytes and published", async () => {
    const body = new URLSearchParams({ payload: githubPush({ after: SHA2 }) }).toString();
    const r = await publishes(1, () => post("/hooks/github", body, { ...signed(body), "content-type": "application/x-www-form-urlencoded" }));
    expect(r.status).toBe(202);
    expect((await lastPublished()).sha).toBe(SHA2);
  });

  test("without FARM_WEBHOOK_SECRET the hook says it is not configured and publishes nothing", async () => {
    deps = configured({ githubSecret: undefined });
    const body = githubPush();
    const r = await publishes(0, () => post("/hooks/github", body, signed(body)));
    expect(r.status).toBe(404);
    expect(r.json.error).toMatch(/not configured.*FARM_WEBHOOK_SECRET/);
  });

  test("a publish that fails is 503", async () => {
    // A real failure: no stream captures this subject, so JetStream has no responder.
    deps = configured({ publish: async (req) => void (await env.web.js.publish("nowhere.new_sha", encode(req, "json"), { timeout: 2000 })) });
    const body = githubPush();
    const r = await publishes(0, () => post("/hooks/github", body, signed(body)));
    expect(r.status).toBe(503);
    expect(r.json.ok).toBe(false);
  });

  test("GET on a hook is 405; a path that is not a hook is left to the server", async () => {
    const get = await fetch(`${base}/hooks/github`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const other = await fetch(`${base}/hooks/githubx`, { method: "POST", body: "{}" });
    expect(other.status).toBe(404);
    expect(await other.text()).toBe("not a hook");
  });
});

describe("oversized bodies", () => {
  test("a declared Content-Length over the cap is 413 and publishes nothing", async () => {
    const body = githubPush({ padding: "x".repeat(20 * 1024) });
    const r = await publishes(0, () => post("/hooks/github", body, signed(body)));
    expect(r.status).toBe(413);
    expect(r.json.ok).toBe(false);
  });

  test("a streamed body is refused as soon as it passes the cap, before the client has finished sending", async () => {
    const before = await published();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/hooks/github`, { method: "POST", headers: { "x-github-event": "push", "x-hub-signature-256": "sha256=00" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", reject);
      // Chunked, no Content-Length; the request is never ended: only a server that stops at the cap answers.
      req.write("x".repeat(20 * 1024));
    });
    expect(status).toBe(413);
    expect(await published()).toBe(before);
  });
});

describe("POST /hooks/gitlab", () => {
  function gitlabPush(over: Record<string, unknown> = {}) {
    return JSON.stringify({
      object_kind: "push",
      ref: "refs/heads/main",
      before: "b".repeat(40),
      after: SHA2,
      checkout_sha: SHA2,
      total_commits_count: 5,
      repository: { git_http_url: "https://gitlab.example.com/octo/hello.git" },
      ...over,
    });
  }

  test("a push with the right token publishes the http url, checkout_sha and history from total_commits_count", async () => {
    const r = await publishes(1, () => post("/hooks/gitlab", gitlabPush(), { "x-gitlab-token": GITLAB, "x-gitlab-event": "Push Hook" }));
    expect(r.status).toBe(202);
    expect(await lastPublished()).toEqual({ repo: "https://gitlab.example.com/octo/hello.git", sha: SHA2, ref: "refs/heads/main", history: 4 });
  });

  test("a wrong or missing token is 401 and publishes nothing", async () => {
    for (const headers of [{ "x-gitlab-token": "wrong" }, { "x-gitlab-token": GITLAB + "x" }, {}] as Record<string, string>[]) {
      const r = await publishes(0, () => post("/hooks/gitlab", gitlabPush(), { ...headers, "x-gitlab-event": "Push Hook" }));
      expect(r.status).toBe(401);
      expect(r.text).not.toContain(GITLAB);
    }
  });

  test("a merge request opened, reopened or given new commits publishes its head commit alone from the target project", async () => {
    const mr = (attrs: Record<string, unknown>) =>
      JSON.stringify({
        object_kind: "merge_request",
        project: { git_http_url: "https://gitlab.example.com/octo/hello.git" },
        object_attributes: { iid: 12, last_commit: { id: SHA2 }, ...attrs },
      });
    for (const attrs of [{ action: "open" }, { action: "reopen" }, { action: "update", oldrev: "e".repeat(40) }]) {
      const r = await publishes(1, () => post("/hooks/gitlab", mr(attrs), { "x-gitlab-token": GITLAB, "x-gitlab-event": "Merge Request Hook" }));
      expect(r.status).toBe(202);
      expect(await lastPublished()).toEqual({ repo: "https://gitlab.example.com/octo/hello.git", sha: SHA2, ref: "refs/merge-requests/12/head", history: 0 });
    }
    // A title edit (update without oldrev), a merge, a close: no new commits.
    for (const attrs of [{ action: "update" }, { action: "merge" }, { action: "close" }]) {
      const r = await publishes(0, () => post("/hooks/gitlab", mr(attrs), { "x-gitlab-token": GITLAB, "x-gitlab-event": "Merge Request Hook" }));
      expect(r.json).toMatchObject({ ok: true, published: false });
    }
  });

  test("a deleted branch and another event publish nothing", async () => {
    const gone = gitlabPush({ after: "0".repeat(40), checkout_sha: null, total_commits_count: 0 });
    const del = await publishes(0, () => post("/hooks/gitlab", gone, { "x-gitlab-token": GITLAB, "x-gitlab-event": "Push Hook" }));
    expect(del.status).toBe(202);
    const tag = await publishes(0, () => post("/hooks/gitlab", gitlabPush(), { "x-gitlab-token": GITLAB, "x-gitlab-event": "Tag Push Hook" }));
    expect(tag.status).toBe(202);
    expect(tag.json.published).toBe(false);
  });

  test("without FARM_GITLAB_TOKEN the hook is not configured", async () => {
    deps = configured({ gitlabToken: undefined });
    const r = await publishes(0, () => post("/hooks/gitlab", gitlabPush(), { "x-gitlab-token": "", "x-gitlab-event": "Push Hook" }));
    expect(r.status).toBe(404);
    expect(r.json.error).toMatch(/FARM_GITLAB_TOKEN/);
  });
});

describe("POST /hooks/push", () => {
  const bearer = { authorization: `Bearer ${TOKEN}` };

  test("with the token, {repo, sha, history, ref} is published as sent (sha lowercased)", async () => {
    const body = JSON.stringify({ repo: "https://git.example.com/a/b.git", sha: SHA2.toUpperCase(), history: 7, ref: "refs/heads/dev" });
    const r = await publishes(1, () => post("/hooks/push", body, bearer));
    expect(r.status).toBe(202);
    expect(await lastPublished()).toEqual({ repo: "https://git.example.com/a/b.git", sha: SHA2, history: 7, ref: "refs/heads/dev" });
  });

  test("without history it asks for the commit alone", async () => {
    await publishes(1, () => post("/hooks/push", JSON.stringify({ repo: CLONE, sha: SHA }), bearer));
    expect(await lastPublished()).toEqual({ repo: CLONE, sha: SHA, history: 0 });
  });

  test("without the token, or with a wrong one, it is 401 and publishes nothing", async () => {
    const body = JSON.stringify({ repo: CLONE, sha: SHA });
    for (const headers of [{}, { authorization: "Bearer nope" }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }] as Record<string, string>[]) {
      const r = await publishes(0, () => post("/hooks/push", body, headers));
      expect(r.status).toBe(401);
      expect(r.text).not.toContain(TOKEN);
    }
  });

  test("a bad sha, repo or history is 400; bad JSON is 400; nothing published", async () => {
    for (const body of [
      JSON.stringify({ repo: CLONE, sha: "abc" }),
      JSON.stringify({ sha: SHA }),
      JSON.stringify({ repo: CLONE, sha: SHA, history: -1 }),
      JSON.stringify({ repo: CLONE, sha: SHA, history: 1.5 }),
      JSON.stringify([CLONE, SHA]),
      "nope",
    ]) {
      const r = await publishes(0, () => post("/hooks/push", body, bearer));
      expect(r.status, body).toBe(400);
    }
  });

  test("without FARM_WEB_TOKEN the hook is not configured", async () => {
    deps = configured({ pushToken: undefined });
    const r = await publishes(0, () => post("/hooks/push", JSON.stringify({ repo: CLONE, sha: SHA }), bearer));
    expect(r.status).toBe(404);
    expect(r.json.error).toMatch(/FARM_WEB_TOKEN/);
  });
});
