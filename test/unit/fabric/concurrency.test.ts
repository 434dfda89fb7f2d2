import { describe, expect, it } from "vitest";
import { InFlight } from "../../../shared/fabric/concurrency.js";

describe("InFlight", () => {
  it("callers of a key in flight share one start, and the key starts again once it settled", async () => {
    const inFlight = new InFlight<number>();
    let starts = 0;
    let release!: (n: number) => void;
    const start = () => {
      starts++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const first = inFlight.run("k", start);
    const second = inFlight.run("k", start);
    expect(second).toBe(first);
    expect(inFlight.get("k")).toBe(first);
    release(7);
    expect(await Promise.all([first, second])).toEqual([7, 7]);
    expect(starts).toBe(1);
    expect(inFlight.get("k")).toBeUndefined();
    const third = inFlight.run("k", start);
    release(8);
    expect(await third).toBe(8);
    expect(starts).toBe(2);
  });

  it("a failure reaches every caller and does not stay: the next call starts again", async () => {
    const inFlight = new InFlight<string>();
    const failing = () => Promise.reject(new Error("store down"));
    const calls = [inFlight.run("k", failing), inFlight.run("k", failing)];
    for (const c of calls) await expect(c).rejects.toThrow("store down");
    expect(await inFlight.run("k", () => Promise.resolve("ok"))).toBe("ok");
  });

  it("keys are apart", async () => {
    const inFlight = new InFlight<string>();
    const [a, b] = await Promise.all([inFlight.run("a", async () => "A"), inFlight.run("b", async () => "B")]);
    expect([a, b]).toEqual(["A", "B"]);
  });
});
