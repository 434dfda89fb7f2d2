/**
 * linter-runner: batches in, contents from the blob store (never a clone),
 * linted on every core, each (blob, config) result into the cache.
 */
import { isBinary, looksMinified } from "../../shared/lintable.js";
import type { FileLintConfig, LintPool } from "../../shared/lint/index.js";
import { defaultFileConfig } from "../../shared/lint/index.js";
import type { BatchDone, LintBatch, ServiceContext } from "../../shared/pipeline.js";
import { resultKey, withLineHashes, stripCached, type FileResult, type LintMessage } from "../../shared/report.js";
import { Lru, objectNames, type Objects, type ResultCache } from "../../shared/stores.js";
import { mapLimit } from "../../shared/concurrency.js";
import { PermanentError } from "../../shared/errors.js";

export interface RunnerDeps extends ServiceContext {
  objects: Objects;
  results: ResultCache;
  pool: LintPool;
}

const utf8 = new TextDecoder("utf-8");

export class LinterRunner {
  // Contents by blob id: a blob shared by many commits is fetched once.
  private readonly contents = new Lru<string, Uint8Array>(4096);

  constructor(private readonly d: RunnerDeps) {}

  onBatch = async (batch: LintBatch): Promise<BatchDone> => {
    const datas = await mapLimit(batch.files, 16, (f) => this.content(f.blob));
    const toLint: { index: number; text: string }[] = [];
    const results: (FileResult | undefined)[] = batch.files.map((f, i) => {
      const data = datas[i];
      if (isBinary(data)) return { messages: [], skipped: "binary" };
      const text = utf8.decode(data);
      if (looksMinified(text)) return { messages: [], skipped: "minified" };
      toLint.push({ index: i, text });
      return undefined;
    });
    const linted = await this.d.pool.lint(
      toLint.map(({ index, text }) => ({
        path: batch.files[index].path,
        content: text,
        config: batch.settings[batch.files[index].configId] as FileLintConfig,
      })),
    );
    linted.forEach((r, j) => {
      const { index, text } = toLint[j];
      results[index] = { messages: withLineHashes(r.messages as LintMessage[], text) };
    });
    const keys = batch.files.map((f) => resultKey(f.blob, f.configId));
    await mapLimit(keys, 32, (k, i) => this.d.results.put(k, results[i]!));
    return { keys, linted: toLint.length };
  };

  /** `lint.file`: one file's content linted now with the default config. */
  onLintFile = async (q: { path?: unknown; content?: unknown }): Promise<{ messages: LintMessage[] }> => {
    if (typeof q?.path !== "string" || typeof q?.content !== "string")
      throw new PermanentError('lint.file needs {"path": "<file name>", "content": "<source>"}', "E_BAD_REQUEST");
    const [r] = await this.d.pool.lint([{ path: q.path, content: q.content, config: defaultFileConfig(q.path) }]);
    return { messages: stripCached(withLineHashes(r.messages as LintMessage[], q.content)) };
  };

  private async content(blob: string): Promise<Uint8Array> {
    const hit = this.contents.get(blob);
    if (hit) return hit;
    const data = await this.d.objects.getBytes(objectNames.blob(blob));
    // Transient: ingest uploads before it queues; a replica may lag behind.
    if (!data) throw new Error(`blob ${blob} is not in the blob store yet`);
    this.contents.set(blob, data);
    return data;
  }
}
