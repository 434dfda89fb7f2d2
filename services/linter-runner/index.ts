/**
 * linter-runner: pulls lint batches, serves lint.file; contents from the blob
 * store (never a clone), linted on every core, each (blob, config) result into
 * the cache. Scale it out; it uses every core.
 */
import { LintPool } from "../../shared/lint/index.js";
import type { Service, ServiceContext } from "../../shared/pipeline/service.js";
import { openStores } from "../../shared/pipeline/stores/index.js";
import { SandboxPool } from "../../shared/toolchain/sandbox-pool.js";
import { subjects } from "../../shared/pipeline/names.js";
import type { LintBatch } from "../../shared/pipeline/contract.js";
import { lintBatch } from "./batch.js";
import { Contents } from "./contents.js";
import { LintConfigs } from "./lint-configs.js";
import { lintFile } from "./lint-file.js";
import { lintPoolOptions } from "./threads.js";

export async function startLinterRunner(ctx: ServiceContext): Promise<Service> {
  const { farm, config } = ctx;
  const { objects, results } = ctx.stores ?? (await openStores(farm.nc));
  const pool = new LintPool(lintPoolOptions(config));
  // ESLint loads in a thread while the first commit is still being cloned and planned.
  pool.warm();
  const sandboxes = new SandboxPool({ maxRunning: config.concurrency });
  const deps = { ...ctx, results, pool, sandboxes, contents: new Contents(objects), configs: new LintConfigs(objects) };
  const workers = [
    // Two batches per thread keep every thread busy while the next batch's contents arrive.
    // A short ack wait (heartbeats every 5 s keep long batches ours): the batches of a
    // runner that died are redelivered to the others within 15 s, not a minute.
    await farm.worker(subjects.lintBatch, (batch: LintBatch) => lintBatch(deps, batch), {
      concurrency: config.concurrency * 2,
      ackWait: 15_000,
      backfillShare: config.backfillShare,
    }),
    await farm.worker(subjects.lintFile, (q: { path?: unknown; content?: unknown }) => lintFile(deps, q), {
      consumeQueue: false,
      concurrency: config.concurrency,
    }),
  ];
  return {
    name: "linter-runner",
    endpoints: workers.map((w) => w.endpoint),
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([pool.close(), sandboxes.close()]);
    },
  };
}
