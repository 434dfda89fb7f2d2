/**
 * Reports written as they arrive (writeReports) read exactly as the whole-list
 * rendering (renderReports), and the ordered window (mapOrdered) keeps order
 * and limits what is in flight.
 */
import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { renderReports, summaryOf, writeReports, type OutputFormat } from "../../../cli/render.js";
import { mapOrdered } from "../../../shared/fabric/concurrency.js";
import type { Report } from "../../../shared/pipeline/report.js";

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
        messages: [{ linter: "eslint", ruleId: i % 2 ? "no-undef" : "no-unused-vars", severity: 2, message: "m", line: 1, column: 1, fingerprint: `fp${i}` }],
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
  await writeReports(slowly(reports), reports.length, { format }, out);
  out.end();
  return text;
}

describe("writeReports", () => {
  for (const format of ["json", "ndjson", "table", "sarif"] as const) {
    for (const n of [0, 1, 3]) {
      test(`${format}, ${n} report(s): the same text as renderReports`, async () => {
        const reports = Array.from({ length: n }, (_, i) => report(i));
        expect(await written(reports, format)).toBe(renderReports(reports, { format }));
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
      await new Promise((r) => setTimeout(r, ms)); // each item's own duration: later items finish first, what is tested
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

describe("the table says where each issue is", () => {
  const one: Report = {
    ...report(1),
    files: [
      {
        path: "lib/b.js",
        blob: "b",
        messages: [
          { linter: "eslint", ruleId: "no-undef", severity: 2, message: "'x' is not defined.", line: 3, column: 9, fingerprint: "fp-new" },
          {
            linter: "eslint",
            ruleId: null,
            severity: 1,
            message: "Unused eslint-disable directive (no problems were reported from 'no-console').",
            line: 1,
            column: 1,
            fingerprint: "fp-old",
          },
        ],
      },
      {
        path: "a.js",
        blob: "a",
        messages: [
          { linter: "eslint", ruleId: null, fatal: true, severity: 2, message: "Parsing error: Unexpected token )", line: 2, column: 5, fingerprint: "fp-p" },
        ],
      },
    ],
    delta: {
      new: [{ path: "lib/b.js", linter: "eslint", ruleId: "no-undef", severity: 2, line: 3, column: 9, message: "'x' is not defined.", fingerprint: "fp-new" }],
      fixed: [],
    },
  };

  test("one commit: every issue under the table, by file, line:col, severity, message, rule; new ones marked", () => {
    const text = renderReports([one], { format: "table" });
    const issues = text.slice(text.indexOf("\na.js\n") + 1);
    expect(issues.split("\n")).toEqual([
      "a.js",
      "  2:5  error  Parsing error: Unexpected token )  eslint/parse-error",
      "",
      "lib/b.js",
      "  1:1  warning  Unused eslint-disable directive (no problems were reported from 'no-console').  eslint/unused-disable-directive",
      "  3:9  error    'x' is not defined.                                                             eslint/no-undef                  new",
      "",
      "3 problems (2 errors, 1 warning), 1 new",
      "",
    ]);
  });

  test("a directive report is counted under its own name, not as a parse error", () => {
    const rules = renderReports([one], { format: "table" });
    expect(rules).toMatch(/eslint\/unused-disable-directive +1/);
    expect(rules).toMatch(/eslint\/parse-error +1/);
  });

  test("a history lists issues only with details: each commit's new ones", () => {
    const history = [one, report(0)];
    expect(renderReports(history, { format: "table" })).not.toContain("'x' is not defined.");
    const detailed = renderReports(history, { format: "table", details: true });
    expect(detailed).toContain(`\n${one.sha.slice(0, 10)}  commit 1: 1 new\nlib/b.js\n  3:9  error  'x' is not defined.  eslint/no-undef  new\n`);
    expect(detailed).not.toContain("Parsing error");
  });

  test("what farm could not honour: each note once under the table, with the commits a history has it on", () => {
    const note = 'src/.eslintrc.yml: plugin "react-hooks" is not bundled with farm; its rules are not run';
    const one1 = { ...one, notes: [note] };
    expect(renderReports([one1], { format: "table" })).toMatch(new RegExp(`\\nNotes\\n  ${note.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n$`));
    const history = renderReports([one1, { ...report(0), notes: [note, "another note"] }, report(2)], { format: "table" });
    expect(history.slice(history.indexOf("\nNotes\n"))).toBe(`\nNotes\n  ${note} (2 of 3 commits)\n  another note (1 of 3 commits)\n`);
    expect(renderReports([one, report(0)], { format: "table" })).not.toContain("Notes");
  });

  const toolchain = {
    id: "1a2b3c4d5e6f".padEnd(64, "0"),
    configFile: "eslint.config.mjs",
    format: "flat" as const,
    eslint: "9.12.0",
    packages: { eslint: "9.12.0", "eslint-plugin-n": "17.10.3", "@eslint/markdown": "6.2.1" },
  };
  const line = "toolchain: eslint 9.12.0 (eslint.config.mjs), eslint-plugin-n 17.10.3, @eslint/markdown 6.2.1 [id 1a2b3c4d]";

  test("the commit's own toolchain: one line right under the table; none when its config was read as data", () => {
    const text = renderReports([{ ...one, toolchain }], { format: "table" });
    const lines = text.split("\n");
    expect(lines[3]).toBe(line);
    expect(lines[2]).toMatch(new RegExp(`^${one.sha.slice(0, 10)} `));
    expect(renderReports([one], { format: "table" })).not.toContain("toolchain");
    // The same from the summary view.
    expect(renderReports([summaryOf({ ...one, toolchain })], { format: "table" })).toContain(`\n${line}\n`);
  });

  test("a history: each distinct toolchain once, with the commits that ran it", () => {
    const other = { ...toolchain, id: "ffff0000".padEnd(64, "0"), configFile: null, eslint: "8.57.0", packages: { eslint: "8.57.0" } };
    const text = renderReports(
      [
        { ...one, toolchain },
        { ...report(0), toolchain: other },
        { ...report(2), toolchain },
      ],
      { format: "table" },
    );
    expect(text).toContain(`\n${line} (2 of 3 commits)\ntoolchain: eslint 8.57.0 [id ffff0000] (1 of 3 commits)\n\nTop rules`);
    const every = renderReports(
      [
        { ...one, toolchain },
        { ...report(0), toolchain },
      ],
      { format: "table" },
    );
    expect(every).toContain(`\n${line} (every commit)\n`);
  });

  test("a package name with control characters reaches the terminal without them", () => {
    const hostile = { ...toolchain, packages: { "evil\u001b[2J\u0007": "1.0.0" } };
    const text = renderReports([{ ...one, toolchain: hostile }], { format: "table" });
    expect(text).toContain("toolchain: eslint 9.12.0 (eslint.config.mjs), evil?[2J? 1.0.0 [id 1a2b3c4d]\n");
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u001b\u0007]/);
  });

  test("summary form: each commit without its files; ndjson: one report per line", () => {
    const lines = renderReports([one, report(0)], { format: "ndjson", summary: true })
      .trimEnd()
      .split("\n");
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]);
    expect(first.files).toBeUndefined();
    expect(first).toMatchObject({ sha: one.sha, summary: one.summary, delta: one.delta });
    expect(JSON.parse(renderReports([one], { format: "ndjson" })).files).toEqual(one.files);
  });
});

describe("a history from summary views", () => {
  test("prints the same table, rule counts and new issues as from whole reports", () => {
    const history = [report(3), report(2), report(1)];
    history[0] = {
      ...history[0],
      delta: { new: [{ path: "f3.js", linter: "eslint", ruleId: "no-undef", severity: 2, line: 1, column: 1, message: "m", fingerprint: "fp3" }], fixed: [] },
    };
    const views = history.map(summaryOf);
    expect(views.every((v) => !("files" in v))).toBe(true);
    for (const opts of [{ format: "table" as const }, { format: "table" as const, details: true }, { format: "ndjson" as const, summary: true }]) {
      expect(renderReports(views, opts)).toBe(renderReports(history, opts));
    }
  });
});
