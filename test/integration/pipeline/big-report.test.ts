/**
 * A report far larger than one NATS message (1 MB): its file's result spills
 * from the KV cache to the object store, and report.get answers with a
 * reference to the whole JSON in the object store (docs/contract.md, "report.get"),
 * which a plain NATS client reads with the object-store API, or part by part
 * through report.get itself.
 */
import path from "node:path";
import { Objm } from "@nats-io/obj";
import { beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../../shared/pipeline/report.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";
import { eslintOracle, reportAsOracle } from "./helpers.js";

const LINES = 8_000;

const env = usePipeline({ prefix: "farm-big-report-" });
let repo: TestRepo;

beforeAll(() => {
  repo = new TestRepo(path.join(env.work, "repo"));
  repo.commit("many issues", { "big.js": "debugger;\n".repeat(LINES), "small.js": "module.exports = 1;\n" });
});

interface Reference {
  repo: string;
  sha: string;
  object: { bucket: string; name: string };
  size: number;
  parts: number;
}

/** What a client without object-store access does: ask report.get for each part. */
async function paged<T>(ref: Reference, format?: string, view?: string): Promise<T> {
  const chunks: Buffer[] = [];
  for (let part = 0; part < ref.parts; part++) {
    const p = await env.client.request<{ part: number; parts: number; data: string; error?: string }>("report.get", {
      repo: ref.repo,
      sha: ref.sha,
      format,
      view,
      object: ref.object.name,
      part,
    });
    expect(p.error).toBeUndefined();
    expect(p).toMatchObject({ part, parts: ref.parts });
    chunks.push(Buffer.from(p.data, "base64"));
  }
  const data = Buffer.concat(chunks);
  expect(data.length).toBe(ref.size);
  return JSON.parse(data.toString("utf8")) as T;
}

/** What any client does with a reference: read the object with the NATS object-store API. */
async function follow<T>(ref: Reference): Promise<T> {
  const store = await new Objm(env.client.nc).open(ref.object.bucket);
  const data = await store.getBlob(ref.object.name);
  expect(data).not.toBeNull();
  return JSON.parse(new TextDecoder().decode(data!)) as T;
}

describe("a report bigger than a NATS message", () => {
  it("report.get answers with an object-store reference holding the whole report", async () => {
    const [sha] = repo.shas;
    env.client.newSha({ repo: repo.dir, sha });
    await env.client.completed([sha], 120_000);
    const reply = await env.client.request<Reference & { error?: string }>("report.get", { repo: repo.dir, sha });
    expect(reply.error).toBeUndefined();
    expect(reply).toMatchObject({ repo: repo.dir, sha, object: { bucket: expect.any(String), name: expect.any(String) } });
    const report = await follow<Report>(reply);
    expect(report.sha).toBe(sha);
    expect(report.summary).toEqual({ files: 2, errors: LINES, warnings: 0 });
    expect(reportAsOracle(report)).toEqual(await eslintOracle(repo.checkout(sha, path.join(env.work, "checkout"))));
    // Asking again points at the same object (content-addressed, never rewritten under a reader).
    expect((await env.client.request<Reference>("report.get", { repo: repo.dir, sha })).object).toEqual(reply.object);

    // The same bytes part by part through report.get, for a client allowed nothing else.
    expect(reply.parts).toBeGreaterThan(1);
    expect(await paged<Report>(reply)).toEqual(report);

    const sarifRef = await env.client.request<Reference>("report.get", { repo: repo.dir, sha, format: "sarif" });
    const sarif = await follow<{ version: string; runs: { results: unknown[] }[] }>(sarifRef);
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results).toHaveLength(LINES);
    expect(await paged(sarifRef, "sarif")).toEqual(sarif);

    // Parts are served only of this repo's and sha's reply objects, and only those that exist.
    const ask = (extra: Record<string, unknown>) => env.client.request<{ error?: string; code?: string }>("report.get", { repo: repo.dir, sha, ...extra });
    expect((await ask({ object: sarifRef.object.name.replace(/^reply/, "report"), part: 0 })).error).toMatch(/must be the name report.get answered/);
    expect((await ask({ object: reply.object.name, part: 0, format: "sarif" })).error).toMatch(/must be the name report.get answered/);
    expect((await ask({ object: reply.object.name, part: reply.parts })).error).toMatch(new RegExp(`has ${reply.parts} parts`));
    expect((await ask({ object: reply.object.name, part: -1 })).error).toMatch(/integer/);
  }, 180_000);

  it("a summary whose delta is bigger than a message is answered in parts too", async () => {
    const sha = repo.commit("every issue fixed", { "big.js": "module.exports = 2;\n" });
    env.client.newSha({ repo: repo.dir, sha, history: 1 });
    await env.client.completed([sha], 120_000);
    const reply = await env.client.request<Reference & { error?: string }>("report.get", { repo: repo.dir, sha, view: "summary" });
    expect(reply.error).toBeUndefined();
    expect(reply.parts).toBeGreaterThan(1);
    const summary = await paged<{ sha: string; files?: unknown; delta: { new: unknown[]; fixed: unknown[] } }>(reply, undefined, "summary");
    expect(summary.sha).toBe(sha);
    expect(summary.files).toBeUndefined();
    expect(summary.delta.fixed).toHaveLength(LINES);
    expect(summary.delta.new).toHaveLength(0);
    // The summary's parts are not the report's: each answer is read only as what it is.
    const full = await env.client.request<Reference>("report.get", { repo: repo.dir, sha });
    expect(full.object.name).not.toBe(reply.object.name);
    const ask = await env.client.request<{ error?: string }>("report.get", { repo: repo.dir, sha, object: reply.object.name, part: 0 });
    expect(ask.error).toMatch(/must be the name report.get answered/);
  }, 180_000);
});
