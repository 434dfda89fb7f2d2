/**
 * The EVENTS stream read back: what a late or restarted subscriber missed.
 * Read by stream message gets (one request per event, answered by the stream
 * leader): a client needs only STREAM.INFO and STREAM.MSG.GET on EVENTS, no
 * consumer of its own.
 */
import type { JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";
import { decode } from "../fabric/codec.js";
import { EVENTS_STREAM, subjects } from "./names.js";

export interface LoggedEvent<T = Record<string, unknown>> {
  seq: number;
  subject: string;
  /** When the stream stored it. */
  time: Date;
  payload: T;
}

export interface EventLogOptions {
  /** Only events stored at or after this time. Default: all the stream keeps. */
  since?: Date;
  /** Subject pattern. Default `repo.analysis.>`. */
  pattern?: string;
}

export class EventLog {
  constructor(private readonly jsm: Pick<JetStreamManager, "streams">) {}

  /** The stored events, oldest first, up to the newest stored when the read began. */
  async *read(opts: EventLogOptions = {}): AsyncGenerator<LoggedEvent> {
    const pattern = opts.pattern ?? `${subjects.analysis}.>`;
    const { state } = await this.jsm.streams.info(EVENTS_STREAM);
    if (state.messages === 0) return;
    let seq = opts.since ? await this.firstAt(opts.since, state.first_seq, state.last_seq) : state.first_seq;
    while (seq <= state.last_seq) {
      const m = await this.next(seq, pattern);
      if (!m || m.seq > state.last_seq) return;
      yield { seq: m.seq, subject: m.subject, time: m.time, payload: decode(m.data, m.header) };
      seq = m.seq + 1;
    }
  }

  /** The first event at or after `seq` whose subject matches, or null. */
  private async next(seq: number, pattern: string): Promise<StoredMsg | null> {
    // next_by_subj: a MsgRequest the 2.9 server answers; the client's type names it for direct gets only.
    return this.jsm.streams.getMessage(EVENTS_STREAM, { seq, next_by_subj: pattern } as unknown as MsgRequest);
  }

  /** Binary search over the sequence (stored times only grow): the first sequence stored at or after `since`. */
  private async firstAt(since: Date, first: number, last: number): Promise<number> {
    let lo = first;
    let hi = last + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const m = await this.next(mid, ">");
      if (!m || m.time >= since) hi = mid;
      else lo = m.seq + 1;
    }
    return lo;
  }
}
