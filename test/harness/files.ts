/** Looking through what a test left on disk (a mirror, a data dir) for what must not be there. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** Every path under `dir` whose name or content (read as latin1: any bytes) contains `needle` or matches it. */
export function filesMatching(dir: string, needle: string | RegExp): string[] {
  const test = (text: string) => (typeof needle === "string" ? text.includes(needle) : needle.test(text));
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (test(name)) hits.push(p);
      if (statSync(p).isDirectory()) walk(p);
      else if (test(readFileSync(p).toString("latin1"))) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}
