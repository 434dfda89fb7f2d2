/**
 * Traces: one `repo.new_sha` with a client's traceparent is followed through
 * all four services (ingest, splitter, linter-runner, aggregator) on every hop
 * (manifests, batches, results, events), spans exported to memory; and with
 * tracing off farm adds no trace header anywhere, and forwards none.
 */
import path from "node:path";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, test } from "vitest";
import { SERVICE_NAMES } from "../../../services/index.js";
import { startTracing, tracingOn } from "../../../shared/fabric/tracing.js";
import { FARM_VERSION } from "../../../shared/fabric/version.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo } from "../../harness/git.js";
import { closePipelines, startPipeline, type Pipeline } from "../../harness/pipeline.js";

const work = useTempDir("farm-traces-");
afterEach(closePipelines);

/** The client's own span: the parent of everything farm does for its request. */
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;

interface Seen {
  subject: string;
  traceparent?: string;
}

/** Every message on farm's work queues (`q.>`, repo.new_sha) and events, with its traceparent: core subscribers see JetStream publishes too. */
async function watchHops(nc: NatsConnection): Promise<Seen[]> {
  const seen: Seen[] = [];
  const record = (_err: unknown, m: { subject: string; headers?: MsgHdrs }) => {
    // A fair subject's task travels one level down, by lane and tenant: named here by its subject.
    const subject = m.subject.replace(/^(q\.(?:repo\.request|commit\.manifest|lint\.batch|results\.commit_files))\.[ib]\.[^.]+$/, "$1");
    seen.push({ subject, traceparent: m.headers?.get("traceparent") || undefined });
  };
  for (const s of ["q.>", "repo.analysis.>"]) nc.subscribe(s, { callback: record });
  await nc.flush();
  return seen;
}

function makeRepo(dir: string): TestRepo {
  const repo = new TestRepo(dir);
  repo.commit("root", { "package.json": '{"name":"traced"}\n', "src/a.js": "const unused = 1;\n" });
  repo.commit("child", { "src/b.js": "debugger;\nmodule.exports = undefinedThing;\n" });
  return repo;
}

function newSha(p: Pipeline, repo: TestRepo, headers?: MsgHdrs): void {
  const body = JSON.stringify({ repo: repo.dir, sha: repo.shas[1], history: 1 });
  p.client.nc.publish("repo.new_sha", new TextEncoder().encode(body), { headers });
}

function clientHeaders(): MsgHdrs {
  const h = natsHeaders();
  h.set("traceparent", TRACEPARENT);
  return h;
}

describe("traces", () => {
  test("one request's trace id reaches every service's span, each a child of the hop before it, and the completed event", async () => {
    const exporter = new InMemorySpanExporter();
    const spanProcessor = new SimpleSpanProcessor({ exporter });
    const repo = makeRepo(path.join(work, "on"));
    const p = await startPipeline({ work, services: [], config: { dataDir: path.join(work, "data-on") } });
    await p.startCluster(SERVICE_NAMES, { dataDir: path.join(work, "data-on") }, { tracing: { spanProcessor } });
    expect(tracingOn).toBe(true);
    const hops = await watchHops(p.client.nc);

    newSha(p, repo, clientHeaders());
    await p.client.completed(repo.shas);
    // Every task acked: every task's span has ended (a span ends before its task's ack goes out).
    await p.client.settled();
    await spanProcessor.forceFlush();

    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const named = (name: string) => spans.filter((s) => s.name === name);
    const parentOf = (s: ReadableSpan) => byId.get(s.parentSpanContext?.spanId ?? "");

    // Nothing farm did for the request started a trace of its own.
    for (const s of spans) expect(s.spanContext().traceId, s.name).toBe(TRACE_ID);

    const [ingest, ...more] = named("repo.new_sha process");
    expect(more).toEqual([]);
    expect(ingest.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
    expect(ingest.attributes).toMatchObject({
      "messaging.system": "nats",
      "messaging.destination.name": "repo.new_sha",
      "farm.service": "ingest",
      "farm.task.attempt": 1,
    });
    expect(ingest.resource.attributes).toMatchObject({ "service.name": "farm", "service.version": FARM_VERSION });
    // Admitted, the request waits its turn on repo.request; the analysis is a child of the admission.
    const [analysis, ...again] = named("repo.request process");
    expect(again).toEqual([]);
    expect(parentOf(analysis)).toBe(ingest);
    expect(analysis.attributes["farm.service"]).toBe("ingest");
    // A step of ingest's analysis: the mirror's clone.
    expect(named("git clone").map((s) => parentOf(s))).toEqual([analysis]);

    const manifests = named("commit.manifest process");
    expect(manifests).toHaveLength(2);
    for (const s of manifests) {
      expect(parentOf(s)).toBe(analysis);
      expect(s.attributes["farm.service"]).toBe("splitter");
    }
    const batches = named("lint.batch process");
    expect(batches.length).toBeGreaterThan(0);
    for (const s of batches) {
      expect(manifests).toContain(parentOf(s));
      expect(s.attributes["farm.service"]).toBe("linter-runner");
    }
    const results = named("results.lint process");
    expect(results).toHaveLength(batches.length);
    for (const s of results) {
      expect(batches).toContain(parentOf(s));
      expect(s.attributes["farm.service"]).toBe("aggregator");
    }
    const commitFiles = named("results.commit_files process");
    expect(commitFiles).toHaveLength(2);
    for (const s of commitFiles) expect(manifests).toContain(parentOf(s));

    // Every span's chain of parents ends at the client's span.
    for (const s of spans) {
      let at: ReadableSpan | undefined = s;
      while (at && at !== ingest) at = parentOf(at);
      expect(at, s.name).toBe(ingest);
    }

    // Every hop carried the trace: the request, the manifests, the batches, the results, the events.
    const subjects = new Set(hops.map((h) => h.subject));
    for (const s of ["q.repo.request", "q.commit.manifest", "q.lint.batch", "q.results.lint", "q.results.commit_files", "repo.analysis.completed"])
      expect(subjects).toContain(s);
    for (const h of hops) expect(h.traceparent, h.subject).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    // The completed events continue the aggregator's task that announced them.
    const completed = hops.filter((h) => h.subject === "repo.analysis.completed");
    expect(completed).toHaveLength(2);
    for (const h of completed) expect(commitFiles).toContain(byId.get(h.traceparent!.split("-")[2]));
  });

  test("off (no OTLP environment): nothing registered, no message carries a traceparent, and a client's is not forwarded", async () => {
    // An OTLP endpoint named but the exporter turned off, and no environment at all: both off.
    expect(await startTracing({ env: { OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" } })).toBeUndefined();
    expect(await startTracing({ env: { OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" } })).toBeUndefined();
    const repo = makeRepo(path.join(work, "off"));
    const p = await startPipeline({ work, services: [], config: { dataDir: path.join(work, "data-off") } });
    await p.startCluster(SERVICE_NAMES, { dataDir: path.join(work, "data-off") }, { tracing: { env: {} } });
    expect(tracingOn).toBe(false);
    const hops = await watchHops(p.client.nc);

    newSha(p, repo, clientHeaders());
    await p.client.completed(repo.shas);
    await p.client.settled();

    const subjects = new Set(hops.map((h) => h.subject));
    for (const s of ["q.repo.request", "q.commit.manifest", "q.lint.batch", "q.results.lint", "repo.analysis.completed"]) expect(subjects).toContain(s);
    expect(hops.filter((h) => h.traceparent)).toEqual([]);
  });
});
