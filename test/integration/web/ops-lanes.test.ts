/**
 * The operations page shows the work waiting at each fair stage by lane and
 * tenant: with no linter-runner up, a push's lint batch waits in the
 * interactive lane under its tenant, and a long history's in backfill.
 */
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { startWeb } from "../../../services/web/index.js";
import { SERVICE_NAMES } from "../../../services/index.js";
import { tenantToken } from "../../../shared/fabric/fair.js";
import { quietLog } from "../../harness/farms.js";
import { TestRepo } from "../../harness/git.js";
import { closePipelines, startPipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

afterAll(() => closePipelines());

/** The rows of the page's lanes table: subject, lane, tenant, tasks. */
function laneRows(html: string): string[][] {
  const table = /<table class="grid lanes">[\s\S]*?<\/table>/.exec(html)?.[0] ?? "";
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
    .map((r) => [...r[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, "").trim()))
    .filter((cells) => cells.length === 4);
}

test("the operations page lists a stage's waiting work by lane and tenant", async () => {
  const p = await startPipeline({
    prefix: "farm-ops-lanes-",
    services: SERVICE_NAMES.filter((n) => n !== "linter-runner"),
    config: { interactiveMaxCommits: 2 },
  });
  const web = await startWeb({ farm: p.cluster.farm, config: p.cluster.config, log: quietLog("web"), port: 0, host: "127.0.0.1" });
  p.onClose(() => web.close());
  const push = new TestRepo(path.join(p.work, "team-push", "app"));
  push.commit("one push", { "index.js": "debugger;\n" });
  const long = new TestRepo(path.join(p.work, "team-history", "lib"));
  for (let i = 0; i < 3; i++) long.commit(`c${i}`, { [`f${i}.js`]: `const unused${i} = ${i};\n` });
  p.client.newSha({ repo: push.dir, sha: push.head() });
  p.client.newSha({ repo: long.dir, sha: long.head(), history: 2 });

  const rows = await waitFor(
    "both teams' lint batches on the page",
    async () => {
      const r = laneRows(await (await fetch(new URL("/ops", web.url))).text()).filter((x) => x[0] === "lint.batch");
      return r.length === 2 ? r : undefined;
    },
    60_000,
    250,
  );
  // Interactive first; each tenant is its repository's owner (here the parent directory).
  expect(rows).toEqual([
    ["lint.batch", "interactive", tenantToken(path.dirname(push.dir)), "1"],
    ["lint.batch", "backfill", tenantToken(path.dirname(long.dir)), expect.stringMatching(/^[1-3]$/) as string],
  ]);
}, 120_000);
