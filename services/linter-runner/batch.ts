/**
 * `lint.batch`: a batch's files linted on the pool, one pool call per config,
 * each (blob, config) result into the cache. Binary and minified files are
 * results too (skipped), never linted.
 */
import { mapLimit } from "../../shared/fabric/concurrency.js";
import { isPermanent } from "../../shared/fabric/errors.js";
import type { FileLintConfig, LintPool } from "../../shared/lint/index.js";
import { isBinary, looksMinified } from "../../shared/lint/lintable.js";
import type { BatchDone, LintBatch } from "../../shared/pipeline/contract.js";
import { kvKeys } from "../../shared/pipeline/names.js";
import { withContexts, type FileResult, type LintMessage } from "../../shared/pipeline/report.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";
import type { ResultCache } from "../../shared/pipeline/stores/index.js";
import type { SandboxPool } from "../../shared/toolchain/sandbox-pool.js";
import { isToolchainSettings, settingsOf } from "../../shared/pipeline/toolchain-settings.js";
import type { Contents } from "./contents.js";
import type { LintConfigs } from "./lint-configs.js";
import { countLinted } from "./metrics.js";
import { lintWithToolchain } from "./toolchain-lint.js";

export interface BatchDeps extends ServiceContext {
  results: ResultCache;
  pool: LintPool;
  contents: Contents;
  configs: LintConfigs;
  /** Sandbox sessions of commits' own toolchains. */
  sandboxes: SandboxPool;
}

const utf8 = new TextDecoder("utf-8");

export async function lintBatch(deps: BatchDeps, batch: LintBatch): Promise<BatchDone> {
  const datas = await mapLimit(batch.files, 16, (f) => deps.contents.get(f.blob));
  const results: (FileResult | undefined)[] = [];
  // Files of a commit's own toolchain: linted as its ESLint would, binary or minified alike.
  const own = new Map<string, number[]>();
  const toLint: { index: number; text: string }[] = [];
  batch.files.forEach((f, i) => {
    const settings = settingsOf(f.configId);
    if (settings !== null) return own.set(settings, [...(own.get(settings) ?? []), i]);
    const data = datas[i];
    if (isBinary(data)) return (results[i] = { messages: [], skipped: "binary" });
    const text = utf8.decode(data);
    if (looksMinified(text)) return (results[i] = { messages: [], skipped: "minified" });
    toLint.push({ index: i, text });
  });
  // One pool call per config: invalid settings (a bad rule option in .farm.json) fail
  // only the files of that config, the rest of the batch is linted as usual.
  const byConfig = new Map<string, { index: number; text: string }[]>();
  for (const t of toLint) {
    const id = batch.files[t.index].configId;
    byConfig.set(id, [...(byConfig.get(id) ?? []), t]);
  }
  await Promise.all([
    ...[...byConfig].map(async ([configId, group]) => {
      const config = (await deps.configs.get(configId)) as FileLintConfig;
      let messages: LintMessage[][];
      try {
        const linted = await deps.pool.lint(group.map(({ index, text }) => ({ path: batch.files[index].path, content: text, config })));
        countLinted(deps, linted);
        messages = linted.map((r) => r.messages);
      } catch (err) {
        // Same settings, same error, whatever the content: the files' result, like a parse error.
        if (!isPermanent(err)) throw err;
        messages = group.map(() => [configError(err as Error)]);
      }
      group.forEach(({ index, text }, j) => (results[index] = { messages: withContexts(messages[j], text) }));
    }),
    ...[...own].map(async ([, indices]) => {
      const settings = await deps.configs.get(batch.files[indices[0]].configId);
      if (!isToolchainSettings(settings)) throw new Error(`config ${batch.files[indices[0]].configId} is not a toolchain's settings`);
      const messages = await lintWithToolchain(
        deps,
        settings,
        indices.map((i) => ({ path: batch.files[i].path, data: datas[i] })),
      );
      indices.forEach((index, j) => (results[index] = { messages: withContexts(messages[j], utf8.decode(datas[index])) }));
    }),
  ]);
  const keys = batch.files.map((f) => kvKeys.result(f.blob, f.configId));
  await mapLimit(keys, 32, (k, i) => deps.results.put(k, results[i]!));
  return { keys, linted: toLint.length + [...own.values()].reduce((n, g) => n + g.length, 0) };
}

/** The message of every file whose lint settings the linter refused. */
function configError(err: Error): LintMessage {
  return { linter: "farm", ruleId: null, severity: 2, line: 1, column: 1, message: `invalid lint settings: ${err.message}`, fatal: true };
}
