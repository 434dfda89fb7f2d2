/**
 * Every class of bad `repo.new_sha` input (issue 3, ingest): each one ends in
 * exactly one `repo.analysis.failed` event with a reason, at once (a permanent
 * failure is never retried: a retried one would take the backoff's tens of
 * seconds), parked as "permanent" in the dead-letter stream, and the service
 * still analyzes a valid request afterwards.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { pack } from "msgpackr";
import { beforeAll, describe, expect, it } from "vitest";
import { TestRepo } from "../../harness/git.js";
import { usePipeline, type AnalysisEvent } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

// Services of their own per test (started below), on one server and client.
const env = usePipeline({ prefix: "farm-bad-input-", services: [] });
let repo: TestRepo;
let sha: string;
let pwned: string;

beforeAll(() => {
  // Where the clone url template of {owner, repo, sha} requests points (see the last test).
  repo = new TestRepo(path.join(env.work, "acme", "widget"));
  repo.commit("c1", { "a.js": "module.exports = 1;\n" });
  sha = repo.commit("c2", { "b.js": "var unused = 2;\n" });
  pwned = path.join(env.work, "pwned");
});

interface Case {
  name: string;
  payload: string | Uint8Array;
  reason: RegExp;
  /** What the failed event echoes back (null when the payload could not be read). */
  echo?: { repo: string | null; sha: string | null };
}

let failedSoFar = 0;

/** Publishes one bad payload and waits for its own failed event: one at a time, so each reason is attributable. */
async function expectFailure(c: Case): Promise<AnalysisEvent> {
  env.client.publish("repo.new_sha", c.payload);
  // 20 s: a retried (transient) failure would only be reported after the backoff, 100 s later.
  await waitFor(`repo.analysis.failed for ${c.name}`, () => env.client.of("failed").length > failedSoFar, 20_000);
  const failed = env.client.of("failed");
  expect(failed, `exactly one failed event for ${c.name}`).toHaveLength(failedSoFar + 1);
  failedSoFar = failed.length;
  const e = failed.at(-1)!;
  expect(e.reason, c.name).toMatch(c.reason);
  if (c.echo) expect({ repo: e.repo, sha: e.sha }, c.name).toEqual(c.echo);
  return e;
}

const json = (v: unknown) => JSON.stringify(v);

describe("bad repo.new_sha input", () => {
  it("file:// urls and local paths are refused when local repos are off", async () => {
    const cluster = await env.startCluster(["ingest"], { dataDir: path.join(env.work, "data-off"), allowLocalRepos: false });
    const fileUrl = pathToFileURL(repo.dir).href;
    await expectFailure({
      name: "file:// url",
      payload: json({ repo: fileUrl, sha }),
      reason: /file:\/\/ url, and local repositories are not enabled/,
      echo: { repo: fileUrl, sha },
    });
    await expectFailure({ name: "absolute path", payload: json({ repo: repo.dir, sha }), reason: /local path, and local repositories are not enabled/ });
    await expectFailure({ name: "relative path", payload: json({ repo: "./repo", sha }), reason: /local path, and local repositories are not enabled/ });
    await cluster.close();
  }, 90_000);

  it("every other bad input gets a failed event with a reason; a valid request then completes", async () => {
    const cluster = await env.startCluster(["ingest", "splitter", "linter-runner", "aggregator"], {
      cloneUrlTemplate: path.join(env.work, "{owner}", "{repo}"),
    });
    const r = repo.dir;
    const cases: Case[] = [
      // Not a payload at all.
      { name: "malformed JSON", payload: `{"repo": "${r}", "sha": `, reason: /not valid JSON/, echo: { repo: null, sha: null } },
      { name: "empty payload", payload: "", reason: /empty payload/ },
      { name: "JSON array", payload: "[1, 2]", reason: /must be an object/ },
      { name: "JSON number", payload: "42", reason: /must be an object|not valid/ },
      { name: "JSON null", payload: "null", reason: /must be an object|not valid/ },
      { name: "msgpack garbage", payload: new Uint8Array([0xc1, 0xc1, 0xc1]), reason: /not valid msgpack/ },
      // Missing and mistyped fields.
      { name: "empty object", payload: "{}", reason: /"sha" must be a full commit id/ },
      { name: "missing sha", payload: json({ repo: r }), reason: /"sha" must be a full commit id.*got undefined/, echo: { repo: r, sha: null } },
      { name: "missing repo", payload: json({ sha }), reason: /"repo" must be a string/, echo: { repo: null, sha } },
      { name: "repo is a number", payload: json({ repo: 42, sha }), reason: /"repo" must be a string/ },
      { name: "repo is empty", payload: json({ repo: "", sha }), reason: /"repo" is empty/ },
      { name: "sha is a number", payload: json({ repo: r, sha: 12345 }), reason: /"sha" must be a full commit id.*got number/ },
      { name: "history is a string", payload: json({ repo: r, sha, history: "4" }), reason: /"history" must be an integer/ },
      { name: "history is negative", payload: json({ repo: r, sha, history: -1 }), reason: /"history" must be an integer/ },
      { name: "history is fractional", payload: json({ repo: r, sha, history: 1.5 }), reason: /"history" must be an integer/ },
      { name: "ref is an option", payload: json({ repo: r, sha, ref: "--output=/tmp/x" }), reason: /"ref" must be a ref name/ },
      { name: "owner with a leading dash", payload: json({ owner: "-evil", repo: "x", sha }), reason: /"owner" must be a plain name/ },
      // Shas.
      { name: "non-hex sha", payload: json({ repo: r, sha: "g".repeat(40) }), reason: /"sha" must be a full commit id/ },
      { name: "short sha", payload: json({ repo: r, sha: sha.slice(0, 7) }), reason: /"sha" must be a full commit id/ },
      { name: "39-char sha", payload: json({ repo: r, sha: sha.slice(0, 39) }), reason: /"sha" must be a full commit id/ },
      { name: "sha with an option", payload: json({ repo: r, sha: `--upload-pack=${sha}` }), reason: /"sha" must be a full commit id/ },
      {
        name: "unknown sha",
        payload: json({ repo: r, sha: "0123456789abcdef0123456789abcdef01234567" }),
        reason: /commit 0123456789abcdef0123456789abcdef01234567 is not in/,
      },
      // Urls git must never see.
      { name: "http://", payload: json({ repo: "http://example.com/o/r.git", sha }), reason: /uses http:\/\/, which is unencrypted/ },
      { name: "git://", payload: json({ repo: "git://example.com/o/r.git", sha }), reason: /uses git:\/\/, which is unencrypted/ },
      { name: "ftp://", payload: json({ repo: "ftp://example.com/o/r.git", sha }), reason: /unsupported scheme "ftp:\/\/"/ },
      { name: "ext::", payload: json({ repo: `ext::sh -c touch% ${pwned}`, sha }), reason: /transport helper \("ext::"\)/ },
      { name: "fd::", payload: json({ repo: "fd::7", sha }), reason: /transport helper/ },
      { name: "leading -", payload: json({ repo: `-oProxyCommand=touch ${pwned}`, sha }), reason: /starts with "-"/ },
      { name: "--upload-pack=", payload: json({ repo: `--upload-pack=touch ${pwned}`, sha }), reason: /starts with "-"/ },
      { name: "--upload-pack= inside a url", payload: json({ repo: `https://example.com/--upload-pack=touch.git`, sha }), reason: /git command-line option/ },
      { name: "ssh host with a leading -", payload: json({ repo: "ssh://-oProxyCommand=x/o/r.git", sha }), reason: /invalid host or user name/ },
      { name: "scp-like with an option path", payload: json({ repo: "git@example.com:-x/r.git", sha }), reason: /starting with "-"/ },
      {
        name: "whitespace in the url",
        payload: json({ repo: "https://example.com/o/r.git --upload-pack", sha }),
        reason: /git command-line option|whitespace/,
      },
      // Too big to be a repo.new_sha.
      { name: "oversized payload", payload: json({ repo: r, sha, padding: "x".repeat(64 * 1024) }), reason: /bytes; the limit is/ },
    ];
    for (const c of cases) await expectFailure(c);

    // Not retried: each one was parked once, as permanent, with the same reason.
    // Refused at admission (repo.new_sha) or, once cloned, at analysis (repo.request: an unknown sha).
    const parked = [...(await cluster.farm.dlq.list({ subject: "repo.new_sha" })), ...(await cluster.farm.dlq.list({ subject: "repo.request" }))];
    expect(parked).toHaveLength(failedSoFar);
    expect(parked.every((d) => d.kind === "permanent" && d.attempts === 1)).toBe(true);
    expect(existsSync(pwned)).toBe(false);
    // Nothing was analyzed, nothing crashed: the same service analyzes a valid request.
    expect(env.client.of("completed")).toEqual([]);
    const before = env.client.events.length;
    env.client.newSha({ repo: r, sha, history: 1 });
    const done = await env.client.completed(repo.shas, 120_000, { after: before });
    expect(done.get(sha)!.delta).toEqual({ new: 1, fixed: 0 });
    expect(env.client.of("failed")).toHaveLength(failedSoFar);
  }, 240_000);

  it("the other accepted forms: a msgpack payload, and {owner, repo, sha} through the clone url template", async () => {
    const [c1, c2] = repo.shas;
    const before = env.client.events.length;
    // What a non-JavaScript client's msgpack library sends: a plain map.
    env.client.publish("repo.new_sha", pack({ repo: repo.dir, sha: c1 }));
    await env.client.completed([c1], 60_000, { after: before, requested: true });
    const templated = env.client.events.length;
    env.client.newSha({ owner: "acme", repo: "widget", sha: c2, ref: "refs/heads/main" });
    const done = await env.client.completed([c2], 60_000, { after: templated, requested: true });
    // The url built from the template is the repo's identity: the same mirror, the same reports.
    expect(done.get(c2)!.repo).toBe(repo.dir);
    expect((await env.client.report(repo.dir, c2)).sha).toBe(c2);
    expect(env.client.of("failed")).toHaveLength(failedSoFar);
  }, 120_000);
});
