/** `farm status`: what is queued, in flight, redelivered and dead-lettered; who is up. */
import { whoIsUp } from "../../shared/presence.js";
import { DLQ_STREAM } from "../../shared/topology.js";
import { commandContext, connectClient, type ConnectionFlags } from "../context.js";

export async function statusCommand(flags: ConnectionFlags & { json?: boolean }) {
  const ctx = commandContext(flags);
  const farm = await connectClient(ctx, "farm-status");
  try {
    const streams = [];
    for (const { stream } of farm.queues.list()) {
      // A stream not created yet (no service has started) has nothing to show.
      const info = await farm.jsm.streams.info(stream).catch(() => null);
      if (!info) continue;
      const consumers = [];
      for await (const c of farm.jsm.consumers.list(stream)) {
        consumers.push({ name: c.name, pending: c.num_pending, inFlight: c.num_ack_pending, redelivered: c.num_redelivered });
      }
      streams.push({ stream, messages: info.state.messages, consumers });
    }
    const dlq = await farm.jsm.streams.info(DLQ_STREAM).catch(() => null);
    const instances = await whoIsUp(farm.nc);
    const status = { nats: ctx.config.natsUrl, streams, deadLettered: dlq?.state.messages ?? 0, instances };
    if (flags.json) {
      process.stdout.write(JSON.stringify(status, null, 2) + "\n");
      return;
    }
    const lines = [`nats ${status.nats}`, ""];
    lines.push("stream     consumer                  pending  in-flight  redelivered");
    for (const s of streams) {
      if (s.consumers.length === 0) lines.push(`${s.stream.padEnd(10)} ${"-".padEnd(24)} ${String(s.messages).padStart(8)}`);
      for (const c of s.consumers)
        lines.push(
          `${s.stream.padEnd(10)} ${c.name.padEnd(24)} ${String(c.pending).padStart(8)} ${String(c.inFlight).padStart(10)} ${String(c.redelivered).padStart(12)}`,
        );
    }
    lines.push("", `dead-lettered: ${status.deadLettered}${status.deadLettered ? " (farm dlq ls)" : ""}`, "");
    lines.push(`instances: ${instances.length}`);
    for (const i of instances.sort((a, b) => a.service.localeCompare(b.service)))
      lines.push(`  ${i.service.padEnd(14)} ${i.host} pid ${i.pid} since ${i.startedAt}`);
    process.stdout.write(lines.join("\n") + "\n");
  } finally {
    await farm.close();
  }
}
