/** `farm publish <repo> <sha>`: ask the cluster to analyze a commit (repo.new_sha). */
import { encode } from "../../shared/fabric/codec.js";
import type { AnalysisRequest } from "../../shared/pipeline/contract.js";
import { subjects } from "../../shared/pipeline/names.js";
import { traceHeaders } from "../../shared/fabric/tracing.js";
import { commandContext, connectClient } from "../context.js";
import { UsageError } from "../errors.js";
import type { ConnectionFlags } from "../config.js";

interface PublishFlags extends ConnectionFlags {
  /** --history: first-parent ancestors to analyze too. */
  history: number;
  ref?: string;
}

export async function publishCommand(repo: string, sha: string, flags: PublishFlags) {
  const ctx = commandContext(flags);
  const farm = await connectClient(ctx, "farm-publish");
  try {
    const payload: AnalysisRequest = { repo, sha, history: flags.history, ...(flags.ref ? { ref: flags.ref } : {}) };
    // A JetStream publish: the ack proves the stream holds it, so it survives an ingest outage.
    const ack = await farm.js.publish(subjects.newSha, encode(payload, "json"), { headers: traceHeaders() }).catch((err: Error) => {
      throw new UsageError(`the cluster did not store repo.new_sha (${err.message}): is farm running there?`);
    });
    process.stdout.write(JSON.stringify({ published: payload, stream: ack.stream, seq: ack.seq }) + "\n");
  } finally {
    await farm.close();
  }
}
