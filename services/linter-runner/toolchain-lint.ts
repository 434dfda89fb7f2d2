/**
 * Linting files with their commit's own toolchain (issue 25): the settings'
 * toolchain installed (or found in this host's cache), the config inputs and
 * the files written to a fresh work dir, the toolchain's ESLint run over them
 * in the sandbox (a session kept for the next batch of the same toolchain and inputs). What the sandboxed code does never fails the batch: a run
 * that is killed or refused is each file's fatal message, naming why.
 */
import type { LintMessage } from "../../shared/pipeline/report.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";
import { settingsId, type ToolchainSettings } from "../../shared/pipeline/toolchain-settings.js";
import { installToolchain } from "../../shared/toolchain/install.js";
import type { SandboxPool } from "../../shared/toolchain/sandbox-pool.js";
import type { SandboxFileResult } from "../../shared/toolchain/types.js";

/** Wall-clock limit of one sandboxed run: FARM_TOOLCHAIN_TIMEOUT (ESLint and the config load) and this per file. */
const RUN_PER_FILE_MS = 2_000;

export interface ToolchainFile {
  path: string;
  data: Uint8Array;
}

/** The messages of each of `files` (same order), linted with `settings`' toolchain. */
export async function lintWithToolchain(
  deps: Pick<ServiceContext, "config" | "log"> & { sandboxes: SandboxPool },
  settings: ToolchainSettings,
  files: readonly ToolchainFile[],
): Promise<LintMessage[][]> {
  const { config } = deps;
  const toolchain = await installToolchain(settings.spec, {
    cacheDir: config.toolchainCacheDir,
    maxCacheBytes: config.toolchainCacheMaxBytes,
    ...(config.npmRegistry ? { registry: config.npmRegistry } : {}),
    log: deps.log,
  });
  // The files come last: a linted file that is also an input (a package.json a JSON plugin lints) is seen whole.
  const work = [...settings.inputs.map((i) => ({ path: i.path, data: i.text })), ...files];
  const result = await deps.sandboxes.lint({
    // What runs in the session: the toolchain and the inputs (the rules not run are per request).
    key: settingsId({ ...settings, notRun: [] }),
    toolchain,
    files: work,
    paths: files.map((f) => f.path),
    notRun: settings.notRun,
    timeoutMs: config.toolchainTimeoutSeconds * 1000 + RUN_PER_FILE_MS * files.length,
    memoryMb: config.lintThreadHeapMb,
  });
  if (!result.ok) {
    const reason = `the repository's toolchain did not finish: ${result.reason ?? "no reason given"}`;
    deps.log.warn({ toolchain: settings.spec.id, files: files.length }, reason);
    return files.map(() => [fatal(reason)]);
  }
  const byPath = new Map(result.files.map((f) => [f.path, f]));
  return files.map((f) => (byPath.get(f.path)?.messages ?? []).map(toMessage));
}

function toMessage(m: SandboxFileResult["messages"][number]): LintMessage {
  return {
    linter: "eslint",
    ruleId: m.ruleId,
    severity: m.severity,
    line: m.line ?? 1,
    column: m.column ?? 1,
    ...(m.endLine === undefined ? {} : { endLine: m.endLine }),
    ...(m.endColumn === undefined ? {} : { endColumn: m.endColumn }),
    message: m.message,
    ...(m.fatal ? { fatal: true as const } : {}),
  };
}

function fatal(message: string): LintMessage {
  return { linter: "farm", ruleId: null, severity: 2, line: 1, column: 1, message, fatal: true };
}
