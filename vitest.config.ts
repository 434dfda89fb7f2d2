import { defineConfig } from "vitest/config";

// Two runs, as the tree says: test/unit (no server, no farm process: seconds) and
// test/integration (real nats-server, farm processes, git servers, a browser).
const shared = {
  testTimeout: 60_000,
  hookTimeout: 30_000,
  // A NATS timeout in a failing test says where its request started. Repositories' own
  // toolchains are off unless a test turns them on (they need a registry: test/harness/registry.ts).
  env: { FARM_ASYNC_TRACES: "1", FARM_TOOLCHAINS: "off" },
};

export default defineConfig({
  test: {
    // Each integration file starts its own nats-server; two cores: keep files from starving each other.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { test: { ...shared, name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { test: { ...shared, name: "integration", include: ["test/integration/**/*.test.ts"] } },
    ],
  },
});
