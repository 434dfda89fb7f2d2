/**
 * `report.get`: serves stored reports (or SARIF, or a history's summary view),
 * in parts when an answer is too big for one message.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { ErrorCodes, PermanentError } from "../../shared/fabric/errors.js";
import { toSarif } from "../../shared/pipeline/sarif.js";
import { encode } from "../../shared/fabric/codec.js";
import { maxBody } from "../../shared/fabric/limits.js";
import { LRUCache } from "lru-cache";
import { type Objects, type ReportStore, type StoredReport } from "../../shared/pipeline/stores/index.js";
import { BLOB_STORE, objectNames } from "../../shared/pipeline/names.js";
import { repoIdentity, repoKey } from "../../shared/git/index.js";
import { PipelineErrorCodes } from "../../shared/pipeline/errors.js";
import type { RequestHandler } from "../../shared/pipeline/request.js";

/** What the report server needs: the stored reports, the object store for big answers, and the server's message limit. */
export interface ReportServerDeps {
  reports: Pick<ReportStore, "head" | "failure" | "summary" | "assemble">;
  objects: Pick<Objects, "putContent" | "getBytes">;
  nc: Pick<NatsConnection, "info">;
  /** Largest answer sent inline. Default: the server's max payload less 16 KiB. */
  maxReplyBytes?: number;
}

export class ReportServer {
  /** Big answers being read part by part: kept a minute after their last part was read, not until four others come. */
  private readonly replies = new LRUCache<string, Uint8Array>({ max: 4, ttl: 60_000, ttlAutopurge: true, updateAgeOnGet: true });

  constructor(private readonly deps: ReportServerDeps) {}

  /**
   * `report.get`: `{repo, sha, format?}` → the report (or SARIF), or `{error}`.
   * An answer too big for one message is put whole (JSON) in the object store
   * and answered as `{repo, sha, object: {bucket, name}, size, parts}`; the same
   * request with `object` and `part` answers that part (docs/contract.md, "report.get"),
   * so a client allowed only report.get can read it too.
   */
  onReportGet: RequestHandler<"report.get"> = async (q) => {
    if (typeof q?.repo !== "string" || typeof q?.sha !== "string")
      throw new PermanentError('report.get needs {"repo": "<url or path>", "sha": "<40 or 64 hex>"}', ErrorCodes.InvalidInput);
    const sha = q.sha.toLowerCase();
    const format = q.format === "sarif" ? "sarif" : "json";
    const summary = q.view === "summary" && format === "json";
    // What a big answer's object is named by: a summary and a report of one commit are different answers.
    const kind = summary ? "summary" : format;
    // The repository's identity: a client's credentials are never echoed back.
    const repo = repoIdentity(q.repo);
    if (q.part !== undefined) return this.replyPart(repo, sha, kind, q.object, q.part);
    const head = await this.deps.reports.head(repoKey(repo), sha);
    if (!head) {
      const failure = await this.deps.reports.failure(repoKey(repo), sha);
      if (failure) throw new PermanentError(`the analysis of ${repo} at ${sha} failed: ${failure}`, PipelineErrorCodes.AnalysisFailed);
      throw new PermanentError(`no report for ${repo} at ${sha}: publish repo.new_sha for it first`, ErrorCodes.NotFound);
    }
    // A history's view: no file is assembled (a big delta may still need parts).
    const answer = summary ? await this.deps.reports.summary(head) : await this.fullAnswer(head, format);
    // JSON is the larger of the two encodings a client may ask for: size the answer by it.
    const json = encode(answer, "json");
    if (json.length <= this.maxReplyBytes()) return answer;
    const name = await this.deps.objects.putContent(objectNames.reply(head.repoKey, `${sha}.${kind}`), json);
    return { repo, sha, object: { bucket: BLOB_STORE, name }, size: json.length, parts: Math.ceil(json.length / this.partBytes()) };
  };

  private async fullAnswer(head: StoredReport, format: "json" | "sarif") {
    const report = await this.deps.reports.assemble(head);
    return format === "sarif" ? toSarif(report) : report;
  }

  /** Part `part` of a big answer, base64 (JSON clients): only of the reply objects of this repo and sha. */
  private async replyPart(repo: string, sha: string, kind: string, object: unknown, part: unknown) {
    const prefix = `${objectNames.reply(repoKey(repo), `${sha}.${kind}`)}/`;
    if (typeof object !== "string" || !object.startsWith(prefix) || !/^[0-9a-f]{32}$/.test(object.slice(prefix.length)))
      throw new PermanentError(`report.get part: "object" must be the name report.get answered for this repo, sha and format`, ErrorCodes.InvalidInput);
    if (typeof part !== "number" || !Number.isInteger(part) || part < 0)
      throw new PermanentError(`report.get part: "part" must be an integer ≥ 0`, ErrorCodes.InvalidInput);
    const data = await this.replyBytes(object);
    const size = this.partBytes();
    const parts = Math.ceil(data.length / size);
    if (part >= parts) throw new PermanentError(`report.get part: ${object} has ${parts} parts (0 to ${parts - 1})`, ErrorCodes.InvalidInput);
    return { part, parts, data: Buffer.from(data.subarray(part * size, (part + 1) * size)).toString("base64") };
  }

  /** A client reads a big answer part after part: the object is read once, not once per part. */
  private async replyBytes(name: string): Promise<Uint8Array> {
    const cached = this.replies.get(name);
    if (cached) return cached;
    const data = await this.deps.objects.getBytes(name);
    if (!data) throw new PermanentError(`${name} is not in the object store: ask report.get again`, ErrorCodes.NotFound);
    this.replies.set(name, data);
    return data;
  }

  /** Bytes of one part: base64 (4/3) of it plus the envelope fits a message. */
  private partBytes(): number {
    return Math.floor((this.maxReplyBytes() * 3) / 4) - 1024;
  }

  /** The server's message limit, less room for headers. */
  private maxReplyBytes(): number {
    return this.deps.maxReplyBytes ?? maxBody(this.deps.nc);
  }
}
