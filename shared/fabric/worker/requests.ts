/**
 * Serves `send`: a queue-group subscription whose requests run in the same
 * slots as queued tasks. An answer goes out in the caller's format (JSON in,
 * JSON out); an error is a `{error, code, name, permanent}` body with the
 * status header; an answer too big for one message is an E_TOO_LARGE error
 * now rather than a timeout later. A handler that returns a plain value is
 * answered without a turn of the event loop.
 */
import { nuid } from "@nats-io/transport-node";
import { encode, formatHeaders, formatOf, type Format } from "../codec.js";
import { ErrorCodes, PermanentError, toWireError } from "../errors.js";
import { HeaderNames, type ErrorReply } from "../envelope.js";
import type { InFlight } from "./in-flight.js";
import type { Outbox } from "./outbox.js";
import type { Slots } from "./slots.js";
import type { Log, RequestMsg, RunTask } from "./ports.js";

export interface RequestDeps {
  /** Decodes the request and runs the handler. */
  run: RunTask;
  slots: Pick<Slots, "take">;
  tasks: Pick<InFlight, "track">;
  outbox: Pick<Outbox, "send">;
  /** WorkerStats counts: an answer is processed, an error answer is failed. */
  counts: { processed: number; failed: number };
  /** Bytes an answer may have (limits.maxBody of the connection). */
  maxBody(): number;
  log: Pick<Log, "info">;
}

const noop = () => {};

export class Requests {
  private sub?: { unsubscribe(): void };

  constructor(private readonly deps: RequestDeps) {}

  /** Answers each request, one slot each, until stop() (or the subscription ends). */
  async serve(sub: AsyncIterable<RequestMsg> & { unsubscribe(): void }): Promise<void> {
    this.sub = sub;
    for await (const m of sub) {
      const wait = this.deps.slots.take();
      if (wait) await wait;
      this.deps.tasks.track(undefined, () => this.answer(m));
    }
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  /** Runs the handler on one request and answers it; undefined when it was answered synchronously. */
  answer(m: RequestMsg): Promise<void> | undefined {
    const format: Format = formatOf(m.data, m.headers);
    const id = nuid.next();
    let value: unknown;
    try {
      value = this.deps.run(m.data, m.headers, { id, attempt: 1, working: noop });
    } catch (err) {
      this.reply(m, format, id, undefined, err);
      return undefined;
    }
    if (isPromiseLike(value)) {
      return Promise.resolve(value).then(
        (v) => this.reply(m, format, id, v),
        (err) => this.reply(m, format, id, undefined, err),
      );
    }
    this.reply(m, format, id, value);
    return undefined;
  }

  private reply(m: RequestMsg, format: Format, id: string, value: unknown, err?: unknown): void {
    const { deps } = this;
    if (err === undefined) {
      if (!m.reply) return void deps.counts.processed++;
      const data = encode(value ?? null, format);
      // Too big for one message: the client gets an error now, not a timeout later.
      const max = deps.maxBody();
      if (data.length > max) {
        const tooBig = new PermanentError(`the answer is ${data.length} bytes, over the ${max}-byte message limit`, ErrorCodes.TooLarge);
        return this.reply(m, format, id, undefined, tooBig);
      }
      deps.counts.processed++;
      // JSON answers say so (edge clients); msgpack that cannot pass for JSON needs no header (codec.formatOf).
      const headers = format === "json" || sniffsAsJson(data) ? formatHeaders(format) : undefined;
      deps.outbox.send({ to: m.reply, data, headers });
      return;
    }
    deps.counts.failed++;
    const w = toWireError(err);
    const body = { error: w.message, code: w.code, name: w.name, permanent: w.permanent } satisfies ErrorReply;
    deps.log.info({ id, err: w.message, code: w.code }, "request failed");
    const h = formatHeaders(format);
    h.set(HeaderNames.status, "error");
    if (m.reply) deps.outbox.send({ to: m.reply, data: encode(body, format), headers: h });
  }
}

/** True when a payload's first byte would make codec.formatOf take it for JSON: `{` or `[`. */
function sniffsAsJson(data: Uint8Array): boolean {
  return data[0] === 0x7b || data[0] === 0x5b;
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | undefined)?.then === "function";
}
