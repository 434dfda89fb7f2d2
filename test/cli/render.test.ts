/**
 * Reports written as they arrive (writeReports) read exactly as the whole-list
 * rendering (renderReports), and the ordered window (mapOrdered) keeps order
 * and limits what is in flight.
 */
import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { renderReports, writeReports, type OutputFormat } from "../../cli/render.js";
import { mapOrdered } from "../../shared/concurrency.js";
import type { Report } from "../../shared/report.js";

function report(i: number): Report {
  return {
    repo: "/r",
    sha: String(i).padStart(40, "a"),
    parent: i ? String(i - 1).padStart(40, "a") : null,
    date: "2026-01-02T03:04:05Z",
    subject: `commit ${i}`,
    linters: { eslint: "10.15.0" },
    summary: { files: 1, errors: i % 2, warnings: 1 } as Report["summary"],
    files: [
      {
        path: `f${i}.js`,
        messages: [
          { linter: "eslint", ruleId: i % 2 ? "no-undef" : "no-unused-vars", severity: 2, message: "m", line: 1, column: 1, fingerprint: `fp${i}` },
        ],
      } as unknown as Report["files"][number],
    ],
    delta: i ? ({ new: [], fixed: [], unchanged: 1 } as unknown as Report["delta"]) : null,
  };
}

async function* slowly(reports: Report[]) {
  for (const r of reports) {
    await new Promise((res) => setImmediate(res));
    yield r;
  }
}

async function written(reports: Report[], format: OutputFormat): Promise<string> {
  // A small high-water mark: the writer must wait for drain, not buffer everything.
  const out = new PassThrough({ highWaterMark: 64 });
  let text = "";
  out.on("data", (d) => (text += d));
  await writeReports(slowly(reports), reports.length, format, out);
  out.end();
  return text;
}

describe("writeReports", () => {
  for (const format of ["json", "table", "sarif"] as const) {
    for (const n of [0, 1, 3]) {
      test(`${format}, ${n} report(s): the same text as renderReports`, async () => {
        const reports = Array.from({ length: n }, (_, i) => report(i));
        expect(await written(reports, format)).toBe(renderReports(reports, format));
      });
    }
  }

  test("json of many reports parses back to the same list", async () => {
    const reports = Array.from({ length: 50 }, (_, i) => report(i));
    expect(JSON.parse(await written(reports, "json"))).toEqual(reports);
  });
});

describe("mapOrdered", () => {
  test("yields in item order although later items finish first, never more than the limit in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const items = [50, 5, 30, 1, 20, 2, 10];
    const got: number[] = [];
    for await (const v of mapOrdered(items, 3, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return i;
    })) {
      got.push(v);
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });

  test("a failure surfaces when its turn comes", async () => {
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const v of mapOrdered([1, 2, 3], 2, async (x) => {
          if (x === 2) throw new Error("boom at 2");
          return x;
        }))
          got.push(v);
      })(),
    ).rejects.toThrow("boom at 2");
    expect(got).toEqual([1]);
  });
});
