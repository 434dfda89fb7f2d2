/** The stores suite's fixture: a nats-server of its own, one farm connection, farm's object store on it. */
import { beforeAll } from "vitest";
import type { Farm } from "../../../shared/fabric/index.js";
import { Objects } from "../../../shared/pipeline/stores/index.js";
import { useFarms } from "../../harness/farms.js";

/** Filled in before the file's tests; closed after them. */
export function useObjects(): { farm: Farm; objects: Objects } {
  const env = useFarms(["farm"], { pipeline: true });
  const stores = {} as { farm: Farm; objects: Objects };
  beforeAll(async () => {
    stores.farm = env.farm;
    stores.objects = await Objects.open(env.farm.nc);
  });
  return stores;
}
