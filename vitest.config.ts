import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Each file starts its own nats-server; two cores: keep files from starving each other.
    fileParallelism: true,
    maxWorkers: 2,
    // A NATS timeout in a failing test says where its request started.
    env: { FARM_ASYNC_TRACES: "1" },
  },
});
