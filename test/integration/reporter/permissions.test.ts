/**
 * The reporter as deploy/nats/auth.conf's `reporter` user, beside the four
 * services as theirs: a push ends in a completed check run, and the server
 * refuses nothing any of them does; the reporter may not touch what is not
 * its own (another service's keys of farm-state, the work queues).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SERVICE_NAMES } from "../../../services/index.js";
import { subjects } from "../../../shared/pipeline/names.js";
import { connectPipeline } from "../../../shared/pipeline/topology.js";
import type { NatsServer } from "../../../shared/runtime/embedded.js";
import { connectAsClient, inboxOf, startAuthServer, startService, type RunningService, type UserName } from "../../harness/deploy.js";
import { quietLog } from "../../harness/farms.js";
import { serveHostFromDisk, TestRepo } from "../../harness/git.js";
import { GitHubApi } from "../../harness/github-api.js";
import { waitFor } from "../../harness/wait.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "farm-reporter-auth-"));
let server: NatsServer;
let passwords: Record<UserName, string>;
let hosted: string;
let restore: () => void;
let api: GitHubApi;
const running: RunningService[] = [];

beforeAll(async () => {
  ({ server, passwords } = await startAuthServer(path.join(dir, "nats")));
  api = await GitHubApi.start(dir);
  ({ hosted, restore } = serveHostFromDisk(dir, "github.com"));
  const admin = await connectPipeline({ servers: server.url, user: "farm-admin", password: passwords["farm-admin"], log: quietLog() });
  await admin.close();
  for (const name of [...SERVICE_NAMES, "reporter"] as const) {
    const auth = { user: name, password: passwords[name], inboxPrefix: inboxOf(name) };
    running.push(
      await startService(name, server.url, auth, {
        dataDir: path.join(dir, "data"),
        github: { apiUrl: api.url, host: "github.com", token: "ghp_permissionsTest" },
        reporterCaFile: api.caFile,
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const s of running.splice(0).reverse()) await s.close().catch(() => {});
  restore();
  await api.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("as its own user, the reporter completes a push's check run; no service is refused anything", async () => {
  const repo = new TestRepo(path.join(hosted, "acme", "locked.git"));
  repo.commit("one", { "package.json": '{"name":"locked"}\n', "a.js": "module.exports = 1;\n" });
  const head = repo.commit("two", { "a.js": "debugger;\nmodule.exports = 1;\n" });
  const client = await connectAsClient(server.url, passwords);
  try {
    await client.js.publish(subjects.newSha, JSON.stringify({ repo: "https://github.com/acme/locked.git", sha: head, history: 1 }));
  } finally {
    await client.close();
  }
  const run = await waitFor("the check run completed", () => api.checkRuns.find((c) => c.head_sha === head && c.status === "completed"), 120_000, 200);
  expect(run.conclusion).toBe("failure");
  expect(api.violations).toEqual([]);
  for (const s of running) expect({ service: s.name, errors: s.errors }).toEqual({ service: s.name, errors: [] });
}, 180_000);

test("the reporter may not write another's keys of farm-state nor take work from a work queue", async () => {
  const nc = await connect({ servers: server.url, user: "reporter", pass: passwords.reporter, inboxPrefix: "_INBOX_reporter" });
  const errors: string[] = [];
  (async () => {
    for await (const s of nc.status()) if (s.type === "error") errors.push(String((s as { error?: unknown }).error));
  })().catch(() => {});
  try {
    nc.publish("$KV.farm-state.repo.somebody", "overwritten");
    nc.publish("$JS.API.CONSUMER.MSG.NEXT.LINT.lint_batch_i_x", "");
    await nc.flush();
    await waitFor("both refusals", () => errors.filter((e) => /Permissions Violation/.test(e)).length >= 2, 5000);
    expect(errors.join("\n")).toMatch(/\$KV\.farm-state\.repo\.somebody/);
    expect(errors.join("\n")).toMatch(/CONSUMER\.MSG\.NEXT\.LINT/);
  } finally {
    await nc.close();
  }
});
