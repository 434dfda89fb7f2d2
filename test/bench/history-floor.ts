/**
 * (d) the floor, run as its own process by history.ts: lint each distinct
 * (blob, config) once, in-process, on one thread, with farm's own engine
 * (shared/lint/engine.ts: one warm ESLint per config, the same flat config
 * farm uses), and report the process CPU time spent linting.
 *
 * Input: a JSON file {gitDir, items: [{blob, path, configId}], configs: {id: FileLintConfig}}.
 * Output (stdout): {cpuMs, wallMs, files, counts: {"<blob>.<configId>": [errors, warnings]}}.
 */
import { readFileSync } from "node:fs";
import { readBlobs } from "../../shared/git/index.js";
import { LintEngine, type FileLintConfig } from "../../shared/lint/index.js";
import { isBinary, looksMinified } from "../../shared/lint/lintable.js";

interface Input {
  gitDir: string;
  items: { blob: string; path: string; configId: string }[];
  configs: Record<string, FileLintConfig>;
}

const input = JSON.parse(readFileSync(process.argv[2], "utf8")) as Input;
const engine = new LintEngine();
const utf8 = new TextDecoder();
const counts: Record<string, [number, number]> = {};
let cpuUs = 0;
let wallMs = 0;
let files = 0;
const CHUNK = 256;

for (let i = 0; i < input.items.length; i += CHUNK) {
  const chunk = input.items.slice(i, i + CHUNK);
  // Contents first (git runs in its own process), then lint them with the clock running.
  const data = new Map<string, Buffer>();
  for await (const [blob, content] of readBlobs(input.gitDir, new Set(chunk.map((c) => c.blob)))) data.set(blob, content);
  const texts = chunk.map((c) => {
    const d = data.get(c.blob)!;
    // history.ts already dropped what the runner skips; keep the check so the floor never lints more than farm.
    if (isBinary(d)) return null;
    const t = utf8.decode(d);
    return looksMinified(t) ? null : t;
  });
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (const [j, c] of chunk.entries()) {
    const text = texts[j];
    if (text === null) continue;
    const messages = await engine.lintFile({ path: c.path, content: text, config: input.configs[c.configId] });
    let errors = 0;
    for (const m of messages) if (m.severity === 2) errors++;
    counts[`${c.blob}.${c.configId}`] = [errors, messages.length - errors];
    files++;
  }
  const cpu = process.cpuUsage(cpu0);
  cpuUs += cpu.user + cpu.system;
  wallMs += performance.now() - wall0;
}

process.stdout.write(JSON.stringify({ cpuMs: cpuUs / 1000, wallMs, files, counts }));
