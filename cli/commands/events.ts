/** `farm events [pattern]`: tail analysis events as JSON lines; --since first prints what the EVENTS stream kept. */
import { EventLog } from "../../shared/pipeline/event-log.js";
import { commandContext, connectClient } from "../context.js";
import type { ConnectionFlags } from "../config.js";
import { whenStdoutClosed } from "../output.js";
import { untilSignal } from "../signals.js";

interface EventsFlags extends ConnectionFlags {
  /** --since: a duration back from now or a date (cli/options.ts). */
  since?: Date;
}

/** Ids already printed, so an event read from the stream and received live is printed once. */
const SEEN_IDS = 10_000;

export async function eventsCommand(pattern: string, flags: EventsFlags) {
  const ctx = commandContext(flags);
  const since = flags.since;
  const farm = await connectClient(ctx, "farm-events");
  const seen = new Set<string>();
  const print = (subject: string, payload: unknown) => {
    const id = (payload as { id?: unknown })?.id;
    if (typeof id === "string") {
      if (seen.has(id)) return;
      seen.add(id);
      if (seen.size > SEEN_IDS) seen.delete(seen.values().next().value!);
    }
    process.stdout.write(JSON.stringify({ subject, ...(payload as object) }) + "\n");
  };
  // Live first, held back while the stored events print: nothing falls between the two.
  let live: [string, unknown][] | undefined = since ? [] : undefined;
  farm.events.subscribe(pattern, (payload, subject) => void (live ? live.push([subject, payload]) : print(subject, payload)));
  await farm.nc.flush();
  try {
    if (since) {
      for await (const e of new EventLog(farm.jsm).read({ since, pattern })) print(e.subject, e.payload);
      for (const [subject, payload] of live!) print(subject, payload);
      live = undefined;
    }
    process.stderr.write(`listening on ${pattern}\n`);
    await Promise.race([untilSignal(), whenStdoutClosed()]);
  } finally {
    await farm.close();
  }
}
