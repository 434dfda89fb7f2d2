/** `farm dlq ls`: the dead-lettered work, with its reason (`farm replay` sends it round again). */
import type { DeadLetter } from "../../shared/fabric/dlq.js";
import { commandContext, connectClient } from "../context.js";
import type { ConnectionFlags } from "../config.js";

const utf8 = new TextDecoder();

/** A dead letter as `farm dlq ls` and `farm replay` print it: its payload's start when printable. */
export function deadLetterView(d: DeadLetter) {
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
    const entries = (await farm.dlq.list()).map(deadLetterView);
    if (flags.json) process.stdout.write(JSON.stringify(entries, null, 2) + "\n");
    else if (entries.length === 0) process.stdout.write("the dead-letter stream is empty\n");
    else
      for (const e of entries)
        process.stdout.write(`#${e.seq} ${e.subject} (${e.kind}, ${e.attempts} attempts, ${e.time})\n    ${e.reason}\n    ${e.payload}\n`);
  } finally {
    await farm.close();
  }
}
