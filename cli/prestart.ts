/**
 * A command that will run a linter-runner in this process (the embedded
 * default; services asked for) starts its first lint thread before it loads
 * its own modules: loading ESLint in that thread (a third of a second) then
 * overlaps the command's start-up instead of following it. Likewise the
 * embedded default's clone of the analyzed repository. Light: no NATS
 * client, no services.
 */
import { existsSync } from "node:fs";
import { Mirrors } from "../shared/git/mirrors.js";
import type { Logger } from "../shared/fabric/logger.js";
import type { FarmConfig } from "../shared/runtime/config.js";
import { findLocalFarm } from "../shared/runtime/local-farm.js";
import { prewarmLintThreads } from "../services/linter-runner/threads.js";

/** What decides whether opening the cluster (cli/cluster.ts) runs the services in this process. */
export interface WhereServicesRun {
  /** Start the four services in-process (the embedded default always does; a running farm up already runs them). */
  services?: boolean;
  /**
   * Without a natsUrl, use the `farm up` running on this data dir, if any, as a
   * client: its store is in use, and it runs the services. Default true;
   * `farm up` itself passes false.
   */
  attach?: boolean;
}

/** How `farm up` opens the cluster: it runs the services, and it is the one other commands attach to (a second one on the data dir fails: store in use). */
export const UP_OPEN = { services: true, attach: false } as const satisfies WhereServicesRun;

/** Whether opening the cluster with `opts` runs the services here: services asked for, or no cluster given and no `farm up` to attach to. */
export function runsServicesHere(config: Pick<FarmConfig, "natsUrl" | "dataDir">, opts: WhereServicesRun): boolean {
  if (opts.services) return true;
  if (config.natsUrl) return false;
  return opts.attach === false || !findLocalFarm(config.dataDir);
}

/** Starts the first lint thread of the linter-runner that opening the cluster with `opts` will start, if any (the pool takes it). */
export function prestartLintThread(config: FarmConfig, opts: WhereServicesRun): void {
  if (runsServicesHere(config, opts)) prewarmLintThreads(config);
}

/** A repository and commit the command is about to ask the cluster for. */
export interface Prefetch {
  repo: string;
  sha: string;
}

/**
 * The embedded default's ingest, asked for a repository it has no mirror of,
 * clones it before it can list a commit: the command starts that clone while
 * nats-server and the services start, and ingest finds the mirror ready (the
 * mirrors' locks keep the two from cloning at once). A failure is left for
 * ingest to meet and report. Resolves when the clone is over.
 */
export function prefetchMirror(config: Pick<FarmConfig, "dataDir">, target: Prefetch, log: Logger): Promise<void> {
  const mirrors = new Mirrors({ dataDir: config.dataDir, allowLocal: true });
  // A mirror there already: ingest's own look for the commit costs what this one would.
  if (existsSync(mirrors.pathFor(target.repo))) return Promise.resolve();
  return mirrors.ensure(target.repo, target.sha).then(
    () => undefined,
    (err: unknown) => log.debug({ err: (err as Error).message }, "prefetching the mirror failed; ingest will try"),
  );
}
