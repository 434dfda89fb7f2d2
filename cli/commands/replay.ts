/** `farm replay`: republish dead-lettered work on its original subject. */
import { commandContext, connectClient } from "../context.js";
import { UsageError } from "../errors.js";
import type { ConnectionFlags } from "../config.js";
import { deadLetterView } from "./dlq.js";

export async function replayCommand(flags: ConnectionFlags & { all?: boolean; seq?: number[]; json?: boolean }) {
  if (!flags.all && !flags.seq?.length) throw new UsageError("say what to replay: --all, or --seq N [N ...] (see farm dlq ls)");
  const ctx = commandContext(flags);
  const farm = await connectClient(ctx, "farm-replay");
  try {
    const replayed = await farm.dlq.replay(flags.all ? { all: true } : { seqs: flags.seq });
    if (flags.json) process.stdout.write(JSON.stringify(replayed.map(deadLetterView), null, 2) + "\n");
    else
      process.stdout.write(
        `replayed ${replayed.length} ${replayed.length === 1 ? "entry" : "entries"}${replayed.map((d) => `\n  #${d.seq} → ${d.subject}`).join("")}\n`,
      );
  } finally {
    await farm.close();
  }
}
