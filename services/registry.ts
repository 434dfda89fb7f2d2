/**
 * The services by name: what `farm service <name>` starts; the four of the
 * pipeline are what the embedded default starts. Light: the CLI reads the
 * names before it loads anything a command needs.
 */
import type { Service, ServiceContext } from "../shared/pipeline/service.js";
import type { WebService } from "./web/index.js";

/** The web app with its listening address and tokens from the config (FARM_WEB_*). */
export async function startConfiguredWeb(ctx: ServiceContext): Promise<WebService> {
  const c = ctx.config;
  const { startWeb } = await import("./web/index.js");
  return startWeb({ ...ctx, port: c.webPort, host: c.webHost, token: c.webToken, public: c.webPublic });
}

/**
 * Each service's start, its modules loaded when it starts: a process loads
 * only the services it runs (the reporter's HTTP client, the web app's pages
 * and the rest are no part of `farm analyze`'s start-up).
 */
export const SERVICES = {
  ingest: async (ctx: ServiceContext) => (await import("./ingest/index.js")).startIngest(ctx),
  splitter: async (ctx: ServiceContext) => (await import("./splitter/index.js")).startSplitter(ctx),
  "linter-runner": async (ctx: ServiceContext) => (await import("./linter-runner/index.js")).startLinterRunner(ctx),
  aggregator: async (ctx: ServiceContext) => (await import("./aggregator/index.js")).startAggregator(ctx),
  web: startConfiguredWeb,
  reporter: async (ctx: ServiceContext) => (await import("./reporter/index.js")).startReporter(ctx),
} as const satisfies Record<string, (ctx: ServiceContext) => Promise<Service>>;

export type ServiceName = keyof typeof SERVICES;
/**
 * The pipeline, in order: "all services" of the embedded default and `farm up`.
 * The web app is not among them: it listens on a port, so it starts only when asked (`--web`, `farm web`);
 * nor is the reporter, which needs a git host's credentials (`farm service reporter`).
 */
export const SERVICE_NAMES = ["ingest", "splitter", "linter-runner", "aggregator"] as const satisfies readonly ServiceName[];
/** Every service `farm service <name>` runs. */
export const ALL_SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

export function isServiceName(name: string): name is ServiceName {
  return Object.hasOwn(SERVICES, name);
}
