/** aggregator: results in, per-commit reports and analysis events out; serves report.get and the history API. */
import type { Service, ServiceContext } from "../../shared/pipeline/service.js";
import { openStores } from "../../shared/pipeline/stores/index.js";
import { subjects } from "../../shared/pipeline/names.js";
import { Aggregator } from "./handlers.js";
import { HistoryServer } from "./history-server.js";
import { ReportServer } from "./report-server.js";
import { ResultTracker } from "./tracker.js";

export async function startAggregator(ctx: ServiceContext): Promise<Service> {
  const { farm } = ctx;
  const { objects, results, reports, repos } = ctx.stores ?? (await openStores(farm.nc));
  const agg = new Aggregator({
    ...ctx,
    objects,
    results,
    reports,
    repos,
    tracker: new ResultTracker(results, { givenUp: reports, stallMs: ctx.config.commitStallSeconds * 1000, log: ctx.log }),
  });
  const reportServer = new ReportServer({ reports, objects, nc: farm.nc });
  const history = new HistoryServer({ reports, repos, objects, nc: farm.nc });
  const serve = { consumeQueue: false, concurrency: 16 } as const;
  // A parent assembled by another instance: its children here look for it at once.
  const wake = (e: { sha?: unknown }) => void (typeof e?.sha === "string" && agg.wakeChildrenOf(e.sha));
  const events = [farm.events.subscribe(subjects.completed, wake), farm.events.subscribe(subjects.failed, wake)];
  const workers = [
    await farm.worker(subjects.lintResults, agg.onBatchResult, { concurrency: 64 }),
    // A commit's message stays in flight until its report is stored: a crash redelivers it.
    // Heartbeats hold it meanwhile, so the ack wait only bounds how long a delivery lost with
    // a NATS node (a failover) waits to come again.
    await farm.worker(subjects.commitFiles, agg.onCommitFiles, { concurrency: 5000, ackWait: 20_000, maxDeliver: 10 }),
    await farm.worker(subjects.reportGet, reportServer.onReportGet, serve),
    await farm.worker(subjects.historyRepos, history.onRepos, serve),
    await farm.worker(subjects.historyCommits, history.onCommits, serve),
    await farm.worker(subjects.historyIssues, history.onIssues, serve),
    await farm.worker(subjects.historyFile, history.onFile, serve),
  ];
  return {
    name: "aggregator",
    endpoints: workers.map((w) => w.endpoint),
    close: async () => {
      for (const sub of events) sub.unsubscribe();
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
