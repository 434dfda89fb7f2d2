/** `farm dlq ls` and `farm replay`: look at parked work, send it round again. */
import type { DeadLetter } from "../../shared/fabric/dlq.js";
import { commandContext, connectClient, parseCount, UsageError, type ConnectionFlags } from "../context.js";

const utf8 = new TextDecoder();

function view(d: DeadLetter) {
  const preview = utf8.decode(d.data.subarray(0, 200));
  return {
    seq: d.seq,
    subject: d.subject,
    kind: d.kind,
    attempts: d.attempts,
    reason: d.reason,
    time: d.time,
    payload: /^[\x20-\x7e\s]*$/.test(preview) ? preview : `<${d.data.length} bytes>`,
  };
}

export async function dlqListCommand(flags: ConnectionFlags & { json?: boolean }) {
  const ctx = commandContext(flags);
  const farm = await connectClient(ctx, "farm-dlq");
  try {
    const entries = (await farm.dlq.list()).map(view);
    if (flags.json) process.stdout.write(JSON.stringify(entries, null, 2) + "\n");
    else if (entries.length === 0) process.stdout.write("the dead-letter stream is empty\n");
    else
      for (const e of entries)
        process.stdout.write(`#${e.seq} ${e.subject} (${e.kind}, ${e.attempts} attempts, ${e.time})\n    ${e.reason}\n    ${e.payload}\n`);
  } finally {
    await farm.close();
  }
}

export async function replayCommand(flags: ConnectionFlags & { all?: boolean; seq?: string[]; json?: boolean }) {
  if (!flags.all && !flags.seq?.length) throw new UsageError("say what to replay: --all, or --seq N [N ...] (see farm dlq ls)");
  const seqs = flags.seq?.map((s) => parseCount("--seq", s, 1));
  const ctx = commandContext(flags);
  const farm = await connectClient(ctx, "farm-replay");
  try {
    const replayed = await farm.dlq.replay(flags.all ? { all: true } : { seqs });
    if (flags.json) process.stdout.write(JSON.stringify(replayed.map(view), null, 2) + "\n");
    else
      process.stdout.write(
        `replayed ${replayed.length} ${replayed.length === 1 ? "entry" : "entries"}${replayed.map((d) => `\n  #${d.seq} → ${d.subject}`).join("")}\n`,
      );
  } finally {
    await farm.close();
  }
}
