/** The test registry (test/harness/registry.ts) is a real one: npm publishes to it and it serves what was published. */
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTempDir } from "../../harness/files.js";
import { TestRegistry, writeTestPackage } from "../../harness/registry.js";

const work = useTempDir("farm-registry-test-");
let registry: TestRegistry;

beforeAll(async () => {
  registry = await TestRegistry.start();
});
afterAll(() => registry?.dispose());

test("a package published with npm is served with its version, publish time and tarball", async () => {
  await registry.publish(writeTestPackage(work, { name: "farm-reachable", version: "2.0.0" }));
  const res = await fetch(`${registry.url}farm-reachable`);
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { versions: Record<string, { dist: { tarball: string } }>; time: Record<string, string> };
  expect(Object.keys(doc.versions)).toEqual(["2.0.0"]);
  expect(Date.parse(doc.time["2.0.0"])).toBeGreaterThan(0);
  const tarball = await fetch(doc.versions["2.0.0"].dist.tarball);
  expect(tarball.status).toBe(200);
  expect(registry.tarballRequests()).toEqual(["/farm-reachable/-/farm-reachable-2.0.0.tgz"]);
});

test("a package nobody published is not found, and nothing is proxied by default", async () => {
  const res = await fetch(`${registry.url}left-pad`);
  expect(res.status).toBe(404);
});

test("stop() kills the process: the port no longer answers", async () => {
  const pid = registry.pid!;
  await registry.stop();
  expect(() => process.kill(pid, 0)).toThrow();
  await expect(fetch(`${registry.url}-/ping`)).rejects.toThrow();
});

test("with proxyPublic, a package nobody published here is served from the public registry", async () => {
  const proxy = await TestRegistry.start({ proxyPublic: true, localPackages: ["farm-local-*"] });
  try {
    const res = await fetch(`${proxy.url}is-number`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { versions: Record<string, unknown> }).versions["7.0.0"]).toBeDefined();
    // A name kept local is never asked of the public registry.
    expect((await fetch(`${proxy.url}farm-local-thing`)).status).toBe(404);
  } finally {
    await proxy.dispose();
  }
});
