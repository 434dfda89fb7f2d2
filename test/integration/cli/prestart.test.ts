/** The embedded default's clone, started by the command while the cluster starts: the mirror ingest then finds ready. */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { prefetchMirror } from "../../../cli/prestart.js";
import { Mirrors } from "../../../shared/git/index.js";
import { quietLog } from "../../harness/farms.js";
import { useTempDir } from "../../harness/files.js";
import { git, TestRepo } from "../../harness/git.js";

const tmp = useTempDir("farm-prefetch-");
const log = quietLog();

describe("prefetchMirror", () => {
  test("clones the repository into the mirror ingest uses: ingest then neither clones nor fetches", async () => {
    const origin = new TestRepo(path.join(tmp, "origin"));
    const sha = origin.commit("one", { "a.js": "let a = 1;\n" });
    const dataDir = path.join(tmp, "data");
    await prefetchMirror({ dataDir }, { repo: origin.dir, sha }, log);
    const ingest = new Mirrors({ dataDir, allowLocal: true });
    const dir = await ingest.ensure(origin.dir, sha);
    expect(git(dir, "cat-file", "-t", sha)).toBe("commit");
    expect(ingest.stats()).toEqual({ clones: 0, fetches: 0 });
  });

  test("a repository that cannot be cloned: resolves, and leaves no mirror for ingest to trip on", async () => {
    const notRepo = path.join(tmp, "not-a-repo");
    const dataDir = path.join(tmp, "data-bad");
    await expect(prefetchMirror({ dataDir }, { repo: notRepo, sha: "a".repeat(40) }, log)).resolves.toBeUndefined();
    expect(existsSync(new Mirrors({ dataDir, allowLocal: true }).pathFor(notRepo))).toBe(false);
  });
});
