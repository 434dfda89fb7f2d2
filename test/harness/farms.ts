/**
 * A real nats-server for a test file and farm connections to it, each closed
 * after the file's tests (child processes included).
 */
import { afterAll, beforeAll } from "vitest";
import { createLogger, Farm, type FarmOptions } from "../../shared/fabric/index.js";
import { connectPipeline } from "../../shared/pipeline/topology.js";
import { killChildren } from "./children.js";
import { NatsServer } from "./nats-server.js";

/** Farm logs go straight to fd 2; keep the test output readable unless FARM_TEST_LOG_LEVEL asks. */
export function quietLog(name = "test") {
  return createLogger({ level: process.env.FARM_TEST_LOG_LEVEL ?? "silent", name });
}

/** The work queue the library's tests distribute on (`jobs.*`), declared as any library user declares its own. */
export const JOBS_QUEUE = { stream: "JOBS", subjects: ["jobs.>"] };

/** `pipeline`: connect as the pipeline's services do (its queues, streams, buckets and blob store too). */
export type TestFarmOptions = Partial<FarmOptions> & { pipeline?: boolean };

export function connectFarm(url: string, opts: TestFarmOptions = {}): Promise<Farm> {
  const { pipeline, ...rest } = opts;
  // A timeout in a failing test says where its request started.
  const options = { servers: url, log: quietLog(opts.name), asyncTraces: true, ...rest, queues: [JOBS_QUEUE, ...(opts.queues ?? [])] };
  return pipeline ? connectPipeline(options) : Farm.connect(options);
}

/**
 * A fresh nats-server for the file's tests and one Farm connection per name
 * (as if on separate boxes), each with `opts`; filled in before the tests,
 * and everything, child processes included, closed after them.
 */
export function useFarms<N extends string>(names: readonly N[], opts: TestFarmOptions = {}): { server: NatsServer } & Record<N, Farm> {
  const env = {} as { server: NatsServer } & Record<N, Farm>;
  beforeAll(async () => {
    env.server = await NatsServer.start();
    for (const name of names) (env as Record<N, Farm>)[name] = await connectFarm(env.server.url, { name, ...opts });
  });
  afterAll(async () => {
    await killChildren();
    await Promise.all(names.map((n) => env[n]?.close()));
    await env.server?.dispose();
  });
  return env;
}
