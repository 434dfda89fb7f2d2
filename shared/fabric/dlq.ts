/**
 * The dead-letter stream: where work that keeps failing is parked with its
 * reason, for a person to look at and replay.
 */
import { headers as natsHeaders, nuid, type MsgHdrs } from "@nats-io/transport-node";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { HeaderNames } from "./envelope.js";
import { parseFairWire } from "./fair.js";
import { ErrorCodes, PermanentError } from "./errors.js";
import { DLQ_PREFIX, DLQ_STREAM, libraryMessageIds as messageIds } from "./names.js";

/** `replay` was asked for sequence numbers the dead-letter stream does not hold (or not with that subject). */
export class UnknownDeadLetterError extends PermanentError {
  constructor(readonly seqs: number[]) {
    super(
      `no dead-letter entry ${seqs.map((s) => `#${s}`).join(", ")} (nothing was replayed; \`farm dlq ls\` lists the entries)`,
      ErrorCodes.UnknownDeadLetter,
    );
  }
}

export type DeadLetterKind = "permanent" | "exhausted";

export interface ParkInfo {
  stream: string;
  streamSeq: number;
  attempts: number;
  reason: string;
  kind: DeadLetterKind;
}

export interface DeadLetter extends ParkInfo {
  /** Sequence in the dead-letter stream: what `replay` takes. */
  seq: number;
  /** The subject the work was originally published on. */
  subject: string;
  time: string;
  data: Uint8Array;
  headers: Record<string, string[]>;
}

export interface ReplayFilter {
  all?: boolean;
  seqs?: number[];
  /** Only entries whose original subject is this: a fair subject's name matches each of its lanes' and tenants' wires. */
  subject?: string;
}

/** A message as read from a consumer or from the stream directly. */
export interface RawMessage {
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs;
}

/** Ms list() waits for entries that vanished after it counted them. */
const LIST_EXPIRES = 3000;

const DLQ_HEADERS = new Set<string>([
  HeaderNames.dlqSubject,
  HeaderNames.dlqStream,
  HeaderNames.dlqSeq,
  HeaderNames.dlqAttempts,
  HeaderNames.dlqReason,
  HeaderNames.dlqKind,
  HeaderNames.dlqTime,
]);
// Server-managed headers that must not travel with a copy.
const DROP = new Set(["nats-msg-id", "nats-expected-stream", "nats-expected-last-sequence"]);

function copyHeaders(src: MsgHdrs | undefined, keep: (k: string) => boolean): MsgHdrs {
  const h = natsHeaders();
  for (const k of src?.keys() ?? []) {
    if (!keep(k.toLowerCase())) continue;
    for (const v of src!.values(k)) h.append(k, v);
  }
  return h;
}

export class DeadLetters {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  /** Parks a message; idempotent per (stream, seq) inside the duplicate window. */
  async park(msg: RawMessage, info: ParkInfo): Promise<void> {
    const h = copyHeaders(msg.headers, (k) => !DROP.has(k) && !DLQ_HEADERS.has(k));
    h.set(HeaderNames.dlqSubject, msg.subject);
    h.set(HeaderNames.dlqStream, info.stream);
    h.set(HeaderNames.dlqSeq, String(info.streamSeq));
    h.set(HeaderNames.dlqAttempts, String(info.attempts));
    // Header values are single-line.
    h.set(HeaderNames.dlqReason, info.reason.replace(/[\r\n]+/g, " ").slice(0, 1024));
    h.set(HeaderNames.dlqKind, info.kind);
    h.set(HeaderNames.dlqTime, new Date().toISOString());
    await this.js.publish(`${DLQ_PREFIX}.${info.stream}.${msg.subject}`, msg.data, {
      headers: h,
      msgID: messageIds.deadLetter(info.stream, info.streamSeq),
    });
  }

  async list(filter: ReplayFilter = { all: true }): Promise<DeadLetter[]> {
    const info = await this.jsm.streams.info(DLQ_STREAM);
    const count = info.state.messages;
    if (count === 0) return [];
    const consumer = await this.js.consumers.get(DLQ_STREAM);
    const out: DeadLetter[] = [];
    // A bounded fetch, not consume(): entries replayed meanwhile by someone else
    // would leave an open-ended consume waiting forever for the rest.
    const iter = await consumer.fetch({ max_messages: count, expires: LIST_EXPIRES });
    for await (const m of iter) {
      out.push(toDeadLetter(m.seq, m.subject, m.data, m.headers));
      if (m.info.pending === 0) break;
    }
    await iter.close();
    return out.filter((d) => matches(d, filter));
  }

  /** Republishes matching entries on their original subjects with fresh message ids, then removes them. */
  /** Republishes the entries; asked for by number, all of them must exist or none is replayed. */
  async replay(filter: ReplayFilter): Promise<DeadLetter[]> {
    const entries = await this.list(filter);
    const missing = filter.seqs?.filter((seq) => !entries.some((d) => d.seq === seq)) ?? [];
    if (missing.length > 0) throw new UnknownDeadLetterError(missing);
    for (const d of entries) {
      const h = copyHeaders(headersOf(d), (k) => !DROP.has(k) && !DLQ_HEADERS.has(k));
      await this.js.publish(d.subject, d.data, { headers: h, msgID: messageIds.replay(d.seq, nuid.next()) });
      await this.jsm.streams.deleteMessage(DLQ_STREAM, d.seq, false);
    }
    return entries;
  }
}

function matches(d: DeadLetter, f: ReplayFilter): boolean {
  if (f.seqs && !f.seqs.includes(d.seq)) return false;
  if (f.subject && d.subject !== f.subject && !parseFairWire(f.subject, d.subject)) return false;
  return Boolean(f.all || f.seqs || f.subject);
}

function headersOf(d: DeadLetter): MsgHdrs {
  const h = natsHeaders();
  for (const [k, vs] of Object.entries(d.headers)) for (const v of vs) h.append(k, v);
  return h;
}

function toDeadLetter(seq: number, subject: string, data: Uint8Array, hdrs?: MsgHdrs): DeadLetter {
  const get = (k: string) => hdrs?.get(k) ?? "";
  const headers: Record<string, string[]> = {};
  for (const k of hdrs?.keys() ?? []) headers[k] = hdrs!.values(k);
  return {
    seq,
    subject: get(HeaderNames.dlqSubject) || subject,
    stream: get(HeaderNames.dlqStream),
    streamSeq: Number(get(HeaderNames.dlqSeq)),
    attempts: Number(get(HeaderNames.dlqAttempts)),
    reason: get(HeaderNames.dlqReason),
    kind: (get(HeaderNames.dlqKind) || "exhausted") as DeadLetterKind,
    time: get(HeaderNames.dlqTime),
    data,
    headers,
  };
}
