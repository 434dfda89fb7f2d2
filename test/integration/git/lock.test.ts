import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isPermanent } from "../../../shared/fabric/errors.js";
import { LockTimeoutError } from "../../../shared/git/index.js";
import { acquireDirLock, releaseDirLock, withDirLock } from "../../../shared/git/lock.js";
import { runTsx } from "../../harness/children.js";
import { useTempDir } from "../../harness/files.js";

const tmp = useTempDir("farm-lock-");

const opts = { timeoutMs: 5_000, staleMs: 60_000, pollMs: 10 };

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid!;
}

/** What the lock's owner file says now. */
function owner(lockDir: string): { pid?: number; token?: string } {
  return JSON.parse(readFileSync(path.join(lockDir, "owner.json"), "utf8")) as { pid?: number; token?: string };
}

function plantLock(lockDir: string, owner: object): void {
  mkdirSync(lockDir, { recursive: true });
  writeFileSync(path.join(lockDir, "owner.json"), JSON.stringify(owner));
}

describe("cross-process directory lock", () => {
  it("never lets two processes hold it at once", async () => {
    const lockDir = path.join(tmp, "shared.lock");
    const child = path.join(import.meta.dirname, "fixtures/lock-child.ts");
    // A common start time (lock-child.ts waits for it), so the three contend for the lock at once.
    const startAt = String(Date.now() + 1500);
    const outs = await Promise.all([0, 1, 2].map(() => runTsx(child, [lockDir, startAt, "200"])));
    const intervals = outs.map((o) => JSON.parse(o) as [number, number]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < intervals.length; i++) expect(intervals[i][0]).toBeGreaterThanOrEqual(intervals[i - 1][1]);
    expect(readdirSync(tmp).filter((n) => n.startsWith("shared.lock"))).toEqual([]);
  });

  it("serializes holders within one process too", async () => {
    const lockDir = path.join(tmp, "inproc.lock");
    let inside = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        withDirLock(lockDir, opts, async () => {
          max = Math.max(max, ++inside);
          // Held a while (what is tested: the others wait meanwhile), not a wait for something to happen.
          await new Promise((r) => setTimeout(r, 20));
          inside--;
        }),
      ),
    );
    expect(max).toBe(1);
  });

  /** A lock planted with `planted` as its owner is broken and taken, then given back. */
  async function expectBroken(name: string, planted: { pid: number; token: string; since: number }) {
    const lockDir = path.join(tmp, name);
    plantLock(lockDir, { host: os.hostname(), ...planted });
    // Far shorter than a live holder would be waited for (opts.timeoutMs): only breaking it gets the lock.
    const token = await acquireDirLock(lockDir, { ...opts, timeoutMs: 2_000 });
    expect(owner(lockDir)).toMatchObject({ pid: process.pid, token });
    expect(token).not.toBe(planted.token);
    await releaseDirLock(lockDir, token);
    expect(existsSync(lockDir)).toBe(false);
  }

  it("breaks a lock whose process is dead", () => expectBroken("dead.lock", { pid: deadPid(), token: "dead", since: Date.now() }));

  it("breaks a lock older than staleMs even if its pid lives", () => expectBroken("old.lock", { pid: process.pid, token: "old", since: Date.now() - 120_000 }));

  it("waits for a live holder and times out with a transient error", async () => {
    const lockDir = path.join(tmp, "live.lock");
    plantLock(lockDir, { pid: process.pid, host: os.hostname(), token: "live", since: Date.now() });
    const err = await acquireDirLock(lockDir, { ...opts, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(isPermanent(err)).toBe(false);
    expect((err as Error).message).toMatch(new RegExp(`held by pid ${process.pid}`));
  });

  it("does not trust a pid from another host, only age", async () => {
    const lockDir = path.join(tmp, "remote.lock");
    plantLock(lockDir, { pid: deadPid(), host: "some-other-host", token: "remote", since: Date.now() });
    await expect(acquireDirLock(lockDir, { ...opts, timeoutMs: 200 })).rejects.toBeInstanceOf(LockTimeoutError);
  });

  it("release leaves a lock that is no longer ours alone", async () => {
    const lockDir = path.join(tmp, "mine.lock");
    const token = await acquireDirLock(lockDir, opts);
    await releaseDirLock(lockDir, "someone-else");
    await expect(acquireDirLock(lockDir, { ...opts, timeoutMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
    await releaseDirLock(lockDir, token);
    await releaseDirLock(lockDir, await acquireDirLock(lockDir, opts));
  });
});
