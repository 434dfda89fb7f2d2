/**
 * linter-runner: batches in, contents from the blob store (never a clone),
 * linted on every core, each (blob, config) result into the cache.
 */
import { isBinary, looksMinified } from "../../shared/lint/lintable.js";
import type { FileLintConfig, LintPool } from "../../shared/lint/index.js";
import { defaultFileConfig } from "../../shared/lint/index.js";
import type { BatchDone, LintBatch } from "../../shared/pipeline/contract.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";
import { withLineHashes, stripCached, type FileResult, type LintMessage } from "../../shared/pipeline/report.js";
import { Lru } from "../../shared/fabric/lru.js";
import { type Objects, type ResultCache } from "../../shared/pipeline/stores/index.js";
import { mapLimit } from "../../shared/fabric/concurrency.js";
import { encode } from "../../shared/fabric/codec.js";
import { maxBody } from "../../shared/fabric/limits.js";
import { ErrorCodes, isPermanent, PermanentError } from "../../shared/fabric/errors.js";
import { kvKeys, objectNames } from "../../shared/pipeline/names.js";
import { metricsOf } from "../../shared/pipeline/metrics.js";
import type { RequestHandler } from "../../shared/pipeline/request.js";

export interface RunnerDeps extends ServiceContext {
  objects: Objects;
  results: ResultCache;
  pool: LintPool;
}

const utf8 = new TextDecoder("utf-8");

export class LinterRunner {
  // Contents by blob id: a blob shared by many commits is fetched once.
  private readonly contents = new Lru<string, Uint8Array>(4096);
  // Lint configs by id (content-addressed: never stale), and the fetches in flight, so concurrent batches fetch one once.
  private readonly configs = new Lru<string, FileLintConfig>(1024);
  private readonly fetching = new Map<string, Promise<FileLintConfig>>();

  constructor(private readonly deps: RunnerDeps) {}

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
    // One pool call per config: invalid settings (a bad rule option in .farm.json) fail
    // only the files of that config, the rest of the batch is linted as usual.
    const byConfig = new Map<string, { index: number; text: string }[]>();
    for (const t of toLint) {
      const id = batch.files[t.index].configId;
      byConfig.set(id, [...(byConfig.get(id) ?? []), t]);
    }
    await Promise.all(
      [...byConfig].map(async ([configId, group]) => {
        const config = await this.config(configId);
        let messages: LintMessage[][];
        try {
          const linted = await this.deps.pool.lint(group.map(({ index, text }) => ({ path: batch.files[index].path, content: text, config })));
          this.counted(linted);
          messages = linted.map((r) => r.messages);
        } catch (err) {
          // Same settings, same error, whatever the content: the files' result, like a parse error.
          if (!isPermanent(err)) throw err;
          messages = group.map(() => [configError(err as Error)]);
        }
        group.forEach(({ index, text }, j) => (results[index] = { messages: withLineHashes(messages[j], text) }));
      }),
    );
    const keys = batch.files.map((f) => kvKeys.result(f.blob, f.configId));
    await mapLimit(keys, 32, (k, i) => this.deps.results.put(k, results[i]!));
    return { keys, linted: toLint.length };
  };

  /** `lint.file`: one file's content linted now with the default config. */
  onLintFile: RequestHandler<"lint.file"> = async (q) => {
    if (typeof q?.path !== "string" || typeof q?.content !== "string")
      throw new PermanentError('lint.file needs {"path": "<file name>", "content": "<source>"}', ErrorCodes.InvalidInput);
    const size = Buffer.byteLength(q.content);
    if (size > this.deps.config.maxFileSize)
      throw new PermanentError(`lint.file content is ${size} bytes; files over ${this.deps.config.maxFileSize} bytes are not linted`, ErrorCodes.TooLarge);
    const [r] = await this.deps.pool.lint([{ path: q.path, content: q.content, config: defaultFileConfig(q.path) }]);
    this.counted([r]);
    const answer = { messages: stripCached(withLineHashes(r.messages, q.content)) };
    // The answer is one message: say so rather than leave the client waiting for a reply that cannot be sent.
    const bytes = encode(answer, "json").length;
    const limit = maxBody(this.deps.farm.nc);
    if (bytes > limit)
      throw new PermanentError(
        `lint.file found ${answer.messages.length} messages (${bytes} bytes), more than one reply can carry (${limit}); analyze the repository instead`,
        ErrorCodes.TooLarge,
      );
    return answer;
  };

  /** Files linted, and each one's time on its thread. */
  private counted(linted: readonly { durationMs: number }[]): void {
    const m = metricsOf(this.deps);
    m.filesLinted.inc(linted.length);
    for (const r of linted) m.lintFileDuration.observe(r.durationMs / 1000);
  }

  /** A batch's config, stored by the splitter under objectNames.lintConfig(id). */
  private async config(id: string): Promise<FileLintConfig> {
    const hit = this.configs.get(id);
    if (hit) return hit;
    let fetch = this.fetching.get(id);
    if (!fetch) {
      // Named from the id, whatever the batch says: a batch cannot point the runner at another object.
      const name = objectNames.lintConfig(id);
      fetch = this.deps.objects
        .getValue<FileLintConfig>(name)
        .then((config) => {
          // Transient: the splitter stores configs before it queues; a replica may lag behind.
          if (!config) throw new Error(`lint config ${id} (${name}) is not in the object store yet`);
          this.configs.set(id, config);
          return config;
        })
        .finally(() => this.fetching.delete(id));
      this.fetching.set(id, fetch);
    }
    return fetch;
  }

  private async content(blob: string): Promise<Uint8Array> {
    const hit = this.contents.get(blob);
    if (hit) return hit;
    const data = await this.deps.objects.getBytes(objectNames.blob(blob));
    // Transient: ingest uploads before it queues; a replica may lag behind.
    if (!data) throw new Error(`blob ${blob} is not in the blob store yet`);
    this.contents.set(blob, data);
    return data;
  }
}

/** The message of every file whose lint settings the linter refused. */
function configError(err: Error): LintMessage {
  return { linter: "farm", ruleId: null, severity: 2, line: 1, column: 1, message: `invalid lint settings: ${err.message}`, fatal: true };
}
