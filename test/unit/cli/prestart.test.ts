/** Which commands start their first lint thread before loading their modules: those that will run the services in this process. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { runsServicesHere, UP_OPEN } from "../../../cli/prestart.js";
import { removeLocalFarm, writeLocalFarm } from "../../../shared/runtime/local-farm.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const dataDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "farm-prestart-"));
  dirs.push(d);
  return d;
};

describe("runsServicesHere", () => {
  test("the embedded default (no cluster given, no farm up on the data dir) runs them", () => {
    expect(runsServicesHere({ natsUrl: undefined, dataDir: dataDir() }, {})).toBe(true);
  });

  test("a cluster given (--nats, NATS_URL) runs them elsewhere, unless services are asked for", () => {
    const config = { natsUrl: "nats://cluster:4222", dataDir: dataDir() };
    expect(runsServicesHere(config, {})).toBe(false);
    expect(runsServicesHere(config, UP_OPEN)).toBe(true);
  });

  test("a running farm up on the data dir runs them: a client attaches to it, farm up itself does not", () => {
    const dir = dataDir();
    writeLocalFarm(dir, "nats://127.0.0.1:4222"); // this test's own pid: alive
    expect(runsServicesHere({ natsUrl: undefined, dataDir: dir }, {})).toBe(false);
    expect(runsServicesHere({ natsUrl: undefined, dataDir: dir }, UP_OPEN)).toBe(true);
    removeLocalFarm(dir);
    expect(runsServicesHere({ natsUrl: undefined, dataDir: dir }, {})).toBe(true);
  });
});
