/**
 * Issue 4: every repo, whatever its url or path holds (dots, spaces, unicode,
 * `*`, `>`), gets a key that the stores accept — checked against a real
 * nats-server's KV bucket, the ground truth — and two repos never share one.
 */
import { createHash } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPermanent } from "../../../shared/fabric/errors.js";
import { InvalidInputError, InvalidKeyError, isInvalidKeyError, repoKey, validateRepoUrl } from "../../../shared/git/index.js";
import { NatsServer } from "../../harness/nats-server.js";
import { kvKeys } from "../../../shared/pipeline/names.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

// Spellings the old slug collapsed into one ("repos-a-b", "repos-a..b", ...): each its own repo.
const HOSTILE = [
  "/srv/repos/a..b",
  "/srv/repos/a.b",
  "/srv/repos/a-b",
  "/srv/repos/a b",
  "/srv/repos/A b",
  "/srv/repos/a*b",
  "/srv/repos/a>b",
  "/srv/repos/a\u00e9b",
  "/srv/repos/ae\u0301b",
  "/srv/repos/..",
  "/srv/repos/.hidden",
  "/srv/repos/trailing.",
  "/srv/...",
  "/",
  "file:///srv/repos/%2A%3E",
  "https://example.com/o/a..b.git",
  "https://example.com/o/..git",
  "https://example.com/%E2%9C%93/x.y.z",
  "git@example.com:o/a..b.git",
  `/srv/${"d.".repeat(80)}`,
];

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connect({ servers: server.url });
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

describe("repoKey", () => {
  it("gives every repo its own key, made only of characters every store and file name accepts", () => {
    const keys = HOSTILE.map(repoKey);
    expect(new Set(keys).size).toBe(HOSTILE.length);
    for (const [i, key] of keys.entries()) {
      expect(key, HOSTILE[i]).toMatch(/^[a-z0-9_][a-z0-9_-]*-[0-9a-f]{16}$/);
      expect(key.length, HOSTILE[i]).toBeLessThanOrEqual(80);
    }
  });

  it("each key works in the reports bucket of a real nats-server (put, get, and its .failed record)", async () => {
    const kv = await new Kvm(nc).create("keys-test", { history: 1 });
    for (const repo of HOSTILE) {
      const key = kvKeys.report(repoKey(repo), SHA);
      await kv.put(key, repo);
      await kv.put(`${key}.failed`, "why");
      expect((await kv.get(key))?.string(), repo).toBe(repo);
    }
    const stored: string[] = [];
    for await (const k of await kv.keys()) stored.push(k);
    expect(stored).toHaveLength(2 * HOSTILE.length);
  }, 30_000);

  it("keeps the keys of names without dots as they were (existing mirrors and reports stay found)", () => {
    const old = (normalized: string, slug: string) => `${slug}-${createHash("sha256").update(normalized).digest("hex").slice(0, 16)}`;
    expect(repoKey("https://github.com/acme/widgets.git")).toBe(old("https://github.com/acme/widgets", "acme-widgets"));
    expect(repoKey("/srv/repos/w")).toBe(old("file:///srv/repos/w", "repos-w"));
  });
});

describe("local paths", () => {
  it("may contain spaces (git gets its arguments as an array); urls and line breaks still may not", () => {
    expect(validateRepoUrl("/srv/repos/with space", { allowLocal: true })).toBe("local");
    expect(validateRepoUrl("/srv/repos/a..b/st*r>", { allowLocal: true })).toBe("local");
    for (const bad of ["/srv/repos/a\nb", "/srv/repos/a\tb", "https://example.com/o/a b.git", "git@example.com:o/a b.git"]) {
      expect(() => validateRepoUrl(bad, { allowLocal: true }), bad).toThrow(InvalidInputError);
    }
  });
});

describe("an invalid key", () => {
  it("is permanent, whoever reports it: ours, or the KV client's plain Error", async () => {
    expect(isPermanent(new InvalidKeyError("a..b"))).toBe(true);
    const kv = await new Kvm(nc).create("keys-invalid", { history: 1 });
    const clientError = await kv.put("caf\u00e9", "x").catch((e: unknown) => e);
    expect(isInvalidKeyError(clientError)).toBe(true);
    expect(isInvalidKeyError(new Error("timeout"))).toBe(false);
  }, 30_000);
});
