/**
 * The few members of NATS objects the worker's units use. Each unit takes these
 * narrow shapes, not the client's classes: the real `JsMsg`, `Msg` and
 * connection satisfy them as they are, and a unit test passes a plain object.
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import type { Logger } from "pino";

/** A queued task as a pull consumer delivers it (a `JsMsg`). */
export interface TaskMsg {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs;
  /** Its sequence in the work-queue stream. */
  readonly seq: number;
  readonly info: {
    readonly stream: string;
    readonly streamSequence: number;
    /** 1 on the first delivery. */
    readonly deliveryCount: number;
  };
  ack(): void;
  /** Hands the task back; redelivered after `millis` (at once without). */
  nak(millis?: number): void;
  /** Gives up on the task: never redelivered. */
  term(reason?: string): void;
  /** Restarts the ack wait. */
  working(): void;
}

/** A request as a core subscription delivers it (a `Msg`). */
export interface RequestMsg {
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs;
  /** The caller's inbox; none for a plain publish. */
  readonly reply?: string;
}

/** A core publish (a connection's `publish`). */
export interface Publisher {
  publish(subject: string, data: Uint8Array, opts?: { headers?: MsgHdrs }): void;
}

/** A JetStream publish, deduplicated by `msgID` (a `JetStreamClient`'s `publish`). */
export interface StreamPublisher {
  publish(subject: string, data: Uint8Array, opts: { msgID: string; headers: MsgHdrs }): Promise<unknown>;
}

/** What the units log through. */
export type Log = Pick<Logger, "info" | "warn" | "error">;

/**
 * Decodes a task's payload and runs the handler on it with its context; throws
 * (synchronously) what the decoder throws. The owner builds the context.
 */
export type RunTask = (data: Uint8Array, headers: MsgHdrs | undefined, task: TaskRun) => unknown;

/** What a unit knows of the run it asks for: the rest of the task's context is the owner's. */
export interface TaskRun {
  id: string;
  attempt: number;
  /** Extends the ack deadline now (a plain function: handed to the handler's context as is). */
  working: () => void;
}
