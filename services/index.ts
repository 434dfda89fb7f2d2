/** The four services by name: what `farm service <name>` and the embedded default start. */
import { openStores } from "../shared/stores/index.js";
import type { Service, ServiceContext } from "../shared/pipeline.js";
import { announce } from "../shared/presence.js";
import { startAggregator } from "./aggregator/index.js";
import { startIngest } from "./ingest/index.js";
import { startLinterRunner } from "./linter-runner/index.js";
import { startSplitter } from "./splitter/index.js";

export const SERVICES = {
  ingest: startIngest,
  splitter: startSplitter,
  "linter-runner": startLinterRunner,
  aggregator: startAggregator,
} as const;

export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

export function isServiceName(name: string): name is ServiceName {
  return Object.hasOwn(SERVICES, name);
}

/** Starts services in pipeline order; on failure stops the ones already started. */
export async function startServices(names: readonly ServiceName[], ctx: ServiceContext): Promise<Service[]> {
  const started: Service[] = [];
  // Services of one process share their stores: what ingest writes, the splitter reads from memory.
  if (names.length > 1 && !ctx.stores) ctx = { ...ctx, stores: await openStores(ctx.farm.nc) };
  try {
    for (const name of names) {
      const service = await SERVICES[name](ctx);
      const presence = announce(ctx.farm.nc, name);
      started.push({ ...service, name, close: async () => (presence.unsubscribe(), service.close()) });
    }
  } catch (err) {
    await stopServices(started);
    throw err;
  }
  return started;
}

/** Stops intake first, so downstream stages can finish what is already in flight. */
export async function stopServices(services: Service[]): Promise<void> {
  for (const s of services) await s.close();
}
