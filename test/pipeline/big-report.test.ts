/**
 * A report far larger than one NATS message (1 MB): its file's result spills
 * from the KV cache to the object store, and report.get answers with a
 * reference to the whole JSON in the object store (README, "report.get"),
 * which a plain NATS client reads with the object-store API.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { Objm } from "@nats-io/obj";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../shared/report.js";
import type { NatsServer } from "../harness/nats-server.js";
import { eslintOracle, RawClient, reportAsOracle, startCluster, startServer, tempDir, testConfig, TestRepo, type Cluster } from "./helpers.js";

const LINES = 8_000;

let server: NatsServer;
let cluster: Cluster;
let client: RawClient;
let work: string;
let repo: TestRepo;

beforeAll(async () => {
  work = tempDir("farm-big-report-");
  repo = new TestRepo(path.join(work, "repo"));
  repo.commit("many issues", { "big.js": "debugger;\n".repeat(LINES), "small.js": "module.exports = 1;\n" });
  server = await startServer();
  cluster = await startCluster(server.url, ["ingest", "splitter", "linter-runner", "aggregator"], testConfig(path.join(work, "data")));
  client = await RawClient.connect(server.url);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await cluster?.close();
  await server?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Reference {
  repo: string;
  sha: string;
  object: { bucket: string; name: string };
}

/** What any client does with a reference: read the object with the NATS object-store API. */
async function follow<T>(ref: Reference): Promise<T> {
  const store = await new Objm(client.nc).open(ref.object.bucket);
  const data = await store.getBlob(ref.object.name);
  expect(data).not.toBeNull();
  return JSON.parse(new TextDecoder().decode(data!)) as T;
}

describe("a report bigger than a NATS message", () => {
  it("report.get answers with an object-store reference holding the whole report", async () => {
    const [sha] = repo.shas;
    client.newSha({ repo: repo.dir, sha });
    await client.completed([sha], 120_000);
    const reply = await client.request<Reference & { error?: string }>("report.get", { repo: repo.dir, sha });
    expect(reply.error).toBeUndefined();
    expect(reply).toMatchObject({ repo: repo.dir, sha, object: { bucket: expect.any(String), name: expect.any(String) } });
    const report = await follow<Report>(reply);
    expect(report.sha).toBe(sha);
    expect(report.summary).toEqual({ files: 2, errors: LINES, warnings: 0 });
    expect(reportAsOracle(report)).toEqual(await eslintOracle(repo.checkout(sha, path.join(work, "checkout"))));
    // Asking again points at the same object (content-addressed, never rewritten under a reader).
    expect((await client.request<Reference>("report.get", { repo: repo.dir, sha })).object).toEqual(reply.object);

    const sarifRef = await client.request<Reference>("report.get", { repo: repo.dir, sha, format: "sarif" });
    const sarif = await follow<{ version: string; runs: { results: unknown[] }[] }>(sarifRef);
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results).toHaveLength(LINES);
  }, 180_000);
});
