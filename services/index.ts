/** Starting and stopping services (their names and starts: registry.ts). */
import { openStores } from "../shared/pipeline/stores/index.js";
import type { Service, ServiceContext } from "../shared/pipeline/service.js";
import { announcePresence } from "../shared/fabric/presence.js";
import { endpointStats, startDiscovery } from "../shared/fabric/discovery.js";
import { SERVICES, type ServiceName } from "./registry.js";

/** Starts services in pipeline order; on failure stops the ones already started. */
export async function startServices(names: readonly ServiceName[], ctx: ServiceContext): Promise<Service[]> {
  const started: Service[] = [];
  // Services of one process share their stores: what ingest writes, the splitter reads from memory.
  if (names.length > 1 && !ctx.stores) ctx = { ...ctx, stores: await openStores(ctx.farm.nc) };
  // $SRV STATS counts from the first task on: the observer is in place before any worker starts.
  endpointStats(ctx.farm);
  try {
    for (const name of names) {
      const service = await SERVICES[name](ctx);
      const discovery = startDiscovery(ctx.farm, { name, endpoints: service.endpoints });
      // One instance id for both: `farm status` and `nats micro ls` name the same instance alike.
      const presence = announcePresence(ctx.farm.nc, name, { id: discovery.id });
      started.push({ ...service, name, close: async () => (presence.unsubscribe(), discovery.stop(), service.close()) });
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

export { ALL_SERVICE_NAMES, isServiceName, SERVICE_NAMES, SERVICES, startConfiguredWeb, type ServiceName } from "./registry.js";
