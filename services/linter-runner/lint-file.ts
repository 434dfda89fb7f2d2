/** `lint.file`: one file's content linted now with the default config, answered in one reply. */
import { encode } from "../../shared/fabric/codec.js";
import { ErrorCodes, PermanentError } from "../../shared/fabric/errors.js";
import { maxBody } from "../../shared/fabric/limits.js";
import { defaultFileConfig, type LintPool } from "../../shared/lint/index.js";
import type { IncomingRequest, ReplyOf } from "../../shared/pipeline/request.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";
import { countLinted } from "./metrics.js";

export async function lintFile(deps: ServiceContext & { pool: LintPool }, q: IncomingRequest<"lint.file">): Promise<ReplyOf<"lint.file">> {
  if (typeof q?.path !== "string" || typeof q?.content !== "string")
    throw new PermanentError('lint.file needs {"path": "<file name>", "content": "<source>"}', ErrorCodes.InvalidInput);
  const size = Buffer.byteLength(q.content);
  if (size > deps.config.maxFileSize)
    throw new PermanentError(`lint.file content is ${size} bytes; files over ${deps.config.maxFileSize} bytes are not linted`, ErrorCodes.TooLarge);
  const [r] = await deps.pool.lint([{ path: q.path, content: q.content, config: defaultFileConfig(q.path) }]);
  countLinted(deps, [r]);
  const answer = { messages: r.messages };
  // The answer is one message: say so rather than leave the client waiting for a reply that cannot be sent.
  const bytes = encode(answer, "json").length;
  const limit = maxBody(deps.farm.nc);
  if (bytes > limit)
    throw new PermanentError(
      `lint.file found ${answer.messages.length} messages (${bytes} bytes), more than one reply can carry (${limit}); analyze the repository instead`,
      ErrorCodes.TooLarge,
    );
  return answer;
}
