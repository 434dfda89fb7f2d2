/**
 * Summaries of `node --cpu-prof` profiles of a farm run (one file per thread:
 * the main thread runs NATS, ingest, splitter, aggregator and the CLI; the
 * lint threads run ESLint): where the CPU went, by category and by function.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fmtS, table } from "./history-util.js";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ThreadSummary {
  file: string;
  thread: string;
  sampledMs: number;
  busyMs: number;
  categories: Record<string, number>;
  topSelf: [string, number][];
  topFarmInclusive: [string, number][];
}

export interface ProfileSummary {
  threads: ThreadSummary[];
  text: string;
}

function category(f: CallFrame): string {
  const u = f.url;
  if (f.functionName === "(idle)") return "idle";
  if (f.functionName === "(garbage collector)") return "gc";
  if (f.functionName === "(program)") return "v8/native";
  if (/node_modules\/(espree|acorn|acorn-jsx)\//.test(u)) return "parse (espree)";
  if (/node_modules\/(@typescript-eslint|typescript)\//.test(u)) return "typescript-eslint";
  if (/node_modules\/eslint-scope\//.test(u)) return "eslint-scope";
  if (/node_modules\/(eslint|@eslint)\//.test(u)) return "eslint";
  if (/node_modules\/@nats-io\//.test(u)) return "nats client";
  if (/node_modules\/msgpackr\//.test(u)) return "msgpackr";
  if (/node_modules\/pino/.test(u)) return "logging";
  if (/\/(services)\//.test(u) && !u.includes("node_modules")) return "farm services";
  if (/\/(shared|cli)\//.test(u) && !u.includes("node_modules")) return "farm shared/cli";
  if (u.startsWith("node:") || u === "") return "node internals";
  if (u.includes("node_modules")) return "other deps";
  return "other";
}

function shortUrl(u: string): string {
  const i = u.lastIndexOf("node_modules/");
  if (i >= 0) return u.slice(i + 13);
  const m = /\/(services|shared|cli)\/.*$/.exec(u);
  return m ? m[0].slice(1) : u.replace(/^file:\/\//, "");
}

export function summarizeProfile(file: string): ThreadSummary {
  const prof = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const categories: Record<string, number> = {};
  const fnSelf = new Map<string, number>();
  const farmIncl = new Map<string, number>();
  let sampled = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const cat = category(n.callFrame);
    sampled += ms;
    categories[cat] = (categories[cat] ?? 0) + ms;
    if (cat === "idle") continue;
    const key = `${n.callFrame.functionName || "(anonymous)"} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    fnSelf.set(key, (fnSelf.get(key) ?? 0) + ms);
    // Inclusive time of farm's own functions on this stack (each counted once per sample).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const c = category(f);
      if (c !== "farm services" && c !== "farm shared/cli") continue;
      const k = `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      farmIncl.set(k, (farmIncl.get(k) ?? 0) + ms);
    }
  }
  const parts = path.basename(file).split(".");
  // CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile: thread 0 is the main thread.
  const tid = parts.at(-3);
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return {
    file,
    thread: tid === "0" ? "main" : `worker ${tid}`,
    sampledMs: sampled,
    busyMs: sampled - (categories.idle ?? 0),
    categories,
    topSelf: top(fnSelf, 12),
    topFarmInclusive: top(farmIncl, 12),
  };
}

export function summarizeProfiles(dir: string, wallMs: number): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const threads = files.map((f) => summarizeProfile(path.join(dir, f))).sort((a, b) => b.busyMs - a.busyMs);
  let text = `CPU profile of a cold farm run (wall ${fmtS(wallMs)} with profiling on), ${threads.length} threads; busy = sampled minus idle\n`;
  const cats = [...new Set(threads.flatMap((t) => Object.keys(t.categories)))].sort();
  text +=
    table(
      ["category", ...threads.map((t) => t.thread)],
      [["busy", ...threads.map((t) => fmtS(t.busyMs))], ...cats.map((c) => [c, ...threads.map((t) => fmtS(t.categories[c] ?? 0))])],
      [false, ...threads.map(() => true)],
    ) + "\n";
  for (const t of threads.filter((x) => x.busyMs > 200)) {
    text += `\n${t.thread}: top self time\n`;
    text +=
      table(
        ["function", "self"],
        t.topSelf.map(([k, ms]) => [k.slice(0, 110), fmtS(ms)]),
        [false, true],
      ) + "\n";
    if (t.topFarmInclusive.length) {
      text += `${t.thread}: farm functions, inclusive CPU (on-CPU samples only; awaits not counted)\n`;
      text +=
        table(
          ["function", "incl"],
          t.topFarmInclusive.map(([k, ms]) => [k.slice(0, 110), fmtS(ms)]),
          [false, true],
        ) + "\n";
    }
  }
  return { threads, text };
}
