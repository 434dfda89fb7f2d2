/**
 * What a subscriber can rely on: every `repo.analysis.*` event has an id that a
 * re-send keeps, the EVENTS stream keeps each event once (a restarted
 * subscriber reads what it missed), `.completed` says the report's delta, and
 * no commit waits without bound.
 */
import path from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterEach, describe, expect, test } from "vitest";
import { EVENTS_STREAM } from "../../../shared/pipeline/names.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo, type Files } from "../../harness/git.js";
import { closePipelines, startPipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

const work = useTempDir("farm-events-");
// Each test on a nats-server of its own.
afterEach(closePipelines);

interface Stored {
  subject: string;
  data: { id: string; sha: string; requested?: boolean; reason?: string };
  msgId: string | undefined;
}

/** Every event the EVENTS stream holds, in order. */
async function storedEvents(jsm: JetStreamManager): Promise<Stored[]> {
  const info = await jsm.streams.info(EVENTS_STREAM);
  const out: Stored[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq }).catch(() => null);
    if (m) out.push({ subject: m.subject, data: m.json(), msgId: m.header?.get("Nats-Msg-Id") });
  }
  return out;
}

function history(dir: string, commits: number, files: number): TestRepo {
  const repo = new TestRepo(dir);
  for (let c = 0; c < commits; c++) {
    const f: Files = c === 0 ? { "package.json": '{"name":"events"}\n' } : {};
    for (let i = c % 3; i < files; i += 3) f[`src/f${i}.js`] = `const v${i} = ${c};\nmodule.exports = v${i} + unknown${c % 4};\n`;
    repo.commit(`commit ${c}`, f);
  }
  return repo;
}

describe("analysis events", () => {
  test(".completed carries the report's delta: null for a root commit, the counts otherwise; every event has an id", async () => {
    const repo = new TestRepo(path.join(work, "small"));
    repo.commit("root", { "a.js": "const unused = 1;\n" });
    repo.commit("child", { "b.js": "debugger;\n" });
    const { client } = await startPipeline({ work, config: { dataDir: path.join(work, "data-small") } });
    client.newSha({ repo: repo.dir, sha: repo.shas[1], history: 1 });
    const done = await client.completed(repo.shas);
    expect(done.get(repo.shas[0])!.delta).toBeNull();
    expect((await client.report(repo.dir, repo.shas[0])).delta).toBeNull();
    const child = await client.report(repo.dir, repo.shas[1]);
    expect(done.get(repo.shas[1])!.delta).toEqual({ new: child.delta!.new.length, fixed: child.delta!.fixed.length });
    expect(done.get(repo.shas[1])!.delta).toEqual({ new: 1, fixed: 0 });
    for (const e of client.events) expect(e.data.id, e.subject).toMatch(/^\w{16,}$/);
  });

  test("after a nats-server restart mid-analysis the EVENTS stream holds each commit's .completed once, and repeats carry the same id", async () => {
    const repo = history(path.join(work, "long"), 24, 30);
    const { server, client } = await startPipeline({ work, config: { dataDir: path.join(work, "data-long") } });
    client.newSha({ repo: repo.dir, sha: repo.shas.at(-1), history: repo.shas.length - 1 });
    const jsm = await jetstreamManager(client.nc);
    await waitFor("a few commits completed", () => client.of("completed").length >= 3, 120_000);
    await server.restart();

    const stored = await waitFor(
      "every commit's .completed in the EVENTS stream",
      async () => {
        const events = await storedEvents(jsm);
        const shas = new Set(events.filter((e) => e.subject === "repo.analysis.completed").map((e) => e.data.sha));
        return repo.shas.every((s) => shas.has(s)) ? events : undefined;
      },
      180_000,
      500,
    );
    expect(stored.filter((e) => e.subject === "repo.analysis.failed")).toEqual([]);
    const completed = stored.filter((e) => e.subject === "repo.analysis.completed");
    expect(completed.map((e) => e.data.sha).sort()).toEqual([...repo.shas].sort());
    for (const e of stored) expect(e.msgId).toBe(e.data.id);
    // A core subscriber may see a re-send: the same id, so it can drop it.
    const seen = new Map<string, Set<string>>();
    for (const e of client.of("completed")) seen.set(e.sha!, (seen.get(e.sha!) ?? new Set()).add(e.id as string));
    for (const [sha, ids] of seen) expect(ids.size, sha).toBe(1);
  }, 300_000);

  test("a commit whose lint results never come ends .failed with why, instead of waiting without bound", async () => {
    const repo = new TestRepo(path.join(work, "stalled"));
    repo.commit("one", { "a.js": "const a = 1;\n" });
    // No linter-runner: the batch is queued and never linted.
    const { client } = await startPipeline({
      work,
      services: ["ingest", "splitter", "aggregator"],
      config: { dataDir: path.join(work, "data-stalled"), commitStallSeconds: 2 },
    });
    client.newSha({ repo: repo.dir, sha: repo.shas[0] });
    const [failed] = await waitFor("the .failed event", () => (client.of("failed").length ? client.of("failed") : undefined), 60_000);
    expect(failed).toMatchObject({ repo: repo.dir, sha: repo.shas[0] });
    expect(failed.reason).toMatch(/1 file result\(s\) did not arrive within 2 s/);
    expect(client.of("completed")).toEqual([]);
  });
});
