/**
 * A repository's own ESLint, config and plugins run in the sandbox (issue 25):
 * a hostile plugin cannot reach the network, write outside the scratch, start a
 * process, read the host or the parent's environment, or outlast its time and
 * memory; an honest toolchain (ESLint 10 flat, ESLint 8 eslintrc) reports what
 * ESLint run directly reports. Toolchains are copied from this project's
 * node_modules (no registry); the plugins are written here.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSandboxed, SandboxRefusedError, SandboxUnavailableError } from "../../../shared/toolchain/sandbox.js";
import type { InstalledToolchain, SandboxFileResult, SandboxRequest } from "../../../shared/toolchain/types.js";
import { useTempDir } from "../../harness/files.js";
import { sandboxProcesses } from "../../harness/sandbox-processes.js";
import { copyToolchain, eslintDirectly, writePackage } from "../../harness/toolchain-dir.js";

const tmp = useTempDir("farm-sandbox-");

const BENIGN = {
  "package.json": JSON.stringify({ name: "eslint-plugin-benign", version: "1.0.0", main: "index.js" }),
  "index.js": `module.exports = { rules: { "no-foo": { meta: { type: "problem", schema: [] }, create(context) {
    return { Identifier(node) { if (node.name === "foo") context.report({ node, message: "no foo" }); } };
  } } } };`,
};

// Each act is one attempt of a hostile rule; the rule reports how it went (or never returns).
const EVIL = {
  "package.json": JSON.stringify({ name: "eslint-plugin-evil", version: "1.0.0", type: "module", main: "index.js" }),
  "index.js": `import fs from "node:fs";
import http from "node:http";
import { spawn } from "node:child_process";

const tried = (fn) => { try { return "done: " + fn(); } catch (e) { return "refused: " + (e.code ?? e.message); } };

export function request(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/evil", timeout: 2000 }, (res) => { res.resume(); resolve("done: " + res.statusCode); });
    req.on("error", (e) => resolve("refused: " + (e.code ?? e.message)));
    req.on("timeout", () => { req.destroy(); resolve("refused: timeout"); });
  });
}

const acts = {
  net: (o) => { void request(o.port); return o.outcome; },
  write: (o) => o.targets.map((t) => tried(() => { fs.writeFileSync(t, "pwned"); return t; })).join(" | "),
  spawn: () => tried(() => { spawn("sh", ["-c", "echo pwned"]); return "spawned"; }),
  read: () => "passwd " + tried(() => fs.readFileSync("/etc/passwd", "utf8")) + " env " + JSON.stringify(process.env),
  loop: () => { for (;;) {} },
  heap: () => { const hold = []; for (let i = 0; i < 4096; i++) hold.push(new Array(131072).fill(i + 0.5)); return hold.length; },
  buffer: () => Buffer.alloc(4 * 1024 ** 3).length,
  flood: () => fs.writeSync(1, "x".repeat(2 * 1024 * 1024)),
  garble: () => fs.writeSync(1, '{"ok":'),
};

export default {
  request,
  rules: {
    act: {
      meta: { schema: false },
      create(context) {
        const o = context.options[0];
        return { Program(node) { context.report({ node, message: o.do + ": " + acts[o.do](o) }); } };
      },
    },
  },
};
`,
};

let eslint10: InstalledToolchain;
let eslint8: InstalledToolchain;
let server: http.Server;
let port: number;
let requestsSeen = 0;

beforeAll(async () => {
  eslint10 = copyToolchain(path.join(tmp, "toolchain-10"), { eslint: "eslint", "@eslint/js": "@eslint/js" }, "flat");
  writePackage(eslint10.dir, "eslint-plugin-benign", BENIGN);
  writePackage(eslint10.dir, "eslint-plugin-evil", EVIL);
  eslint8 = copyToolchain(path.join(tmp, "toolchain-8"), { eslint8: "eslint" }, "eslintrc");
  writePackage(eslint8.dir, "eslint-plugin-benign", BENIGN);
  server = http.createServer((req, res) => {
    requestsSeen++;
    res.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let dirs = 0;
/** A fresh work dir holding `files`. */
function workDir(files: Record<string, string>): string {
  const dir = path.join(tmp, `work-${++dirs}`);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

const request = (toolchain: InstalledToolchain, dir: string, more: Partial<SandboxRequest> = {}): SandboxRequest => ({
  toolchain,
  workDir: dir,
  paths: ["src"],
  timeoutMs: 30_000,
  memoryMb: 256,
  ...more,
});

/** A work dir whose config runs the evil rule's `act` with `options` on src/a.js. */
function evilWork(act: string, options: Record<string, unknown> = {}, preamble = ""): string {
  const rule = JSON.stringify(["error", { do: act, ...options }]);
  return workDir({
    "eslint.config.mjs": `import evil from "eslint-plugin-evil";\n${preamble}\nexport default [{ plugins: { evil }, rules: { "evil/act": ${rule.replace('"OUTCOME"', "outcome")} } }];\n`,
    "src/a.js": "var foo = 1;\n",
  });
}

const evilMessage = (files: SandboxFileResult[]) => files.find((f) => f.path === "src/a.js")?.messages.find((m) => m.ruleId === "evil/act")?.message;

/** After a hostile run: the launcher still lints, and nothing of the hostile run is left running. */
async function expectStillUsable(): Promise<void> {
  const dir = workDir({
    "eslint.config.mjs": `import benign from "eslint-plugin-benign";\nexport default [{ plugins: { benign }, rules: { "benign/no-foo": "error" } }];\n`,
    "src/a.js": "var foo = 1;\n",
  });
  const result = await runSandboxed(request(eslint10, dir));
  expect(result).toMatchObject({ ok: true, eslintVersion: "10.15.0" });
  expect(result.files).toEqual([{ path: "src/a.js", messages: [expect.objectContaining({ ruleId: "benign/no-foo", message: "no foo", line: 1, column: 5 })] }]);
  expect(sandboxProcesses()).toEqual([]);
}

describe("a hostile plugin in the sandbox", () => {
  it("reaches no server: the test's own server on 127.0.0.1 sees no request", async () => {
    // The same request made from here does reach it: the probe is a real one.
    const evil = (await import(pathToFileURL(path.join(eslint10.dir, "node_modules/eslint-plugin-evil/index.js")).href)) as {
      default: { request(port: number): Promise<string> };
    };
    expect(await evil.default.request(port)).toBe("done: 200");
    requestsSeen = 0;
    const dir = evilWork("net", { port, outcome: "OUTCOME" }, `const outcome = await evil.request(${port});`);
    const result = await runSandboxed(request(eslint10, dir));
    expect(result.ok).toBe(true);
    expect(evilMessage(result.files)).toMatch(/^net: refused: E[A-Z]+/);
    expect(requestsSeen).toBe(0);
    await expectStillUsable();
  });

  it("writes nothing outside its scratch /tmp: not the host's temp dir, the work dir or the toolchain", async () => {
    const marker = path.join(tmp, "marker-host");
    const dir = evilWork("write", { targets: [marker, "/work/marker", "/node_modules/marker", "/tmp/marker"] });
    const result = await runSandboxed(request(eslint10, dir));
    const said = evilMessage(result.files) ?? "";
    expect(said).toContain("done: /tmp/marker");
    expect(said.match(/refused: /g)).toHaveLength(3);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(dir, "marker"))).toBe(false);
    expect(existsSync(path.join(eslint10.dir, "node_modules/marker"))).toBe(false);
    await expectStillUsable();
  });

  it("cannot start a process: spawn('sh') is refused", async () => {
    const result = await runSandboxed(request(eslint10, evilWork("spawn")));
    expect(evilMessage(result.files)).toBe("spawn: refused: ERR_ACCESS_DENIED");
    await expectStillUsable();
  });

  it("reads neither /etc/passwd nor the parent's environment", async () => {
    process.env.NATS_PASSWORD = "sekrit";
    try {
      const result = await runSandboxed(request(eslint10, evilWork("read")));
      const said = evilMessage(result.files) ?? "";
      expect(said).toMatch(/^read: passwd refused: \S+ env \{/);
      const env = JSON.parse(said.slice(said.indexOf(" env ") + 5)) as Record<string, string>;
      expect(env).toEqual({ HOME: "/tmp", PATH: "/usr/bin:/bin", PWD: "/work" });
      const everything = JSON.stringify(result);
      expect(everything).not.toContain("sekrit");
      expect(everything).not.toContain("NATS_PASSWORD");
      expect(everything).not.toContain(readFileSync("/etc/passwd", "utf8").split("\n")[0]);
    } finally {
      delete process.env.NATS_PASSWORD;
    }
    await expectStillUsable();
  });

  it("is killed at its time limit when it loops forever", async () => {
    const result = await runSandboxed(request(eslint10, evilWork("loop"), { timeoutMs: 3000 }));
    expect(result).toEqual({ ok: false, files: [], reason: "timed out after 3000 ms" });
    await expectStillUsable();
  });

  it("dies at its heap limit when it holds 4 GB of arrays", async () => {
    const result = await runSandboxed(request(eslint10, evilWork("heap")));
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^ran out of memory \(256 MiB\)/);
    await expectStillUsable();
  });

  it("is refused a 4 GB buffer by its address-space limit", async () => {
    const result = await runSandboxed(request(eslint10, evilWork("buffer")));
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^ran out of memory \(256 MiB\)/);
    await expectStillUsable();
  });

  it("is killed when it floods stdout past the bound", async () => {
    const result = await runSandboxed(request(eslint10, evilWork("flood")), { maxStdoutBytes: 1024 * 1024 });
    expect(result).toEqual({ ok: false, files: [], reason: "wrote more than its stdout bound: killed" });
    await expectStillUsable();
  });

  it("cannot pass off a garbled stdout as a result", async () => {
    const result = await runSandboxed(request(eslint10, evilWork("garble")));
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/its output is not a result/);
    await expectStillUsable();
  });
});

const SOURCES = {
  "src/a.js": "var foo = 1;\nundefinedThing();\n",
  "src/b.js": "const ok = (\n",
  "src/clean.js": "export const x = 1;\n",
  "ignored/c.js": "var foo;\n",
};

describe("an honest toolchain in the sandbox", () => {
  it("ESLint 10 with a flat config and a plugin reports what ESLint run directly reports", async () => {
    const dir = workDir({
      "eslint.config.mjs": `import js from "@eslint/js";
import benign from "eslint-plugin-benign";
export default [{ ignores: ["ignored/**"] }, js.configs.recommended, { plugins: { benign }, rules: { "benign/no-foo": "warn" } }];
`,
      ...SOURCES,
    });
    const paths = ["src", "ignored/c.js"];
    const result = await runSandboxed(request(eslint10, dir, { paths }));
    expect(result).toMatchObject({ ok: true, eslintVersion: "10.15.0" });
    expect(result.files.map((f) => f.path).sort()).toEqual(["src/a.js", "src/b.js", "src/clean.js"]);
    expect(result.files.find((f) => f.path === "src/a.js")?.messages.map((m) => m.ruleId)).toEqual(["benign/no-foo", "no-unused-vars", "no-undef"]);
    expect(result.files).toEqual(await eslintDirectly(eslint10, dir, paths));
  });

  it("ESLint 8 with an eslintrc config, a plugin and .eslintignore reports what ESLint 8 run directly reports", async () => {
    const dir = workDir({
      ".eslintrc.json": JSON.stringify({
        root: true,
        extends: "eslint:recommended",
        parserOptions: { ecmaVersion: 2022, sourceType: "module" },
        plugins: ["benign"],
        rules: { "benign/no-foo": "warn" },
      }),
      ".eslintignore": "ignored/\n",
      ...SOURCES,
    });
    const paths = ["src", "ignored/c.js"];
    const result = await runSandboxed(request(eslint8, dir, { paths }));
    expect(result).toMatchObject({ ok: true, eslintVersion: "8.57.0" });
    expect(result.files.find((f) => f.path === "src/a.js")?.messages.map((m) => m.ruleId)).toEqual(["benign/no-foo", "no-unused-vars", "no-undef"]);
    expect(result.files).toEqual(await eslintDirectly(eslint8, dir, paths));
  });
});

describe("the launcher", () => {
  it("refuses to run anything without bubblewrap", async () => {
    const dir = workDir({ "src/a.js": "var foo;\n" });
    await expect(runSandboxed(request(eslint10, dir), { bwrap: path.join(tmp, "no-bwrap") })).rejects.toThrow(SandboxUnavailableError);
  });

  it("refuses a path that leaves the work dir", async () => {
    const dir = workDir({ "src/a.js": "var foo;\n" });
    await expect(runSandboxed(request(eslint10, dir, { paths: ["src/../../outside.js"] }))).rejects.toThrow(SandboxRefusedError);
  });
});
