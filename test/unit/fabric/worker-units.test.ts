/**
 * The worker's units (shared/fabric/worker/), each on its own, without a nats-server:
 * fakes of the narrow interfaces each unit takes. The server tests beside this
 * file cover the Worker they make up.
 */
import { describe, expect, test, vi, type Mock } from "vitest";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { CONTENT_TYPE, decode, encode, JSON_TYPE, MSGPACK } from "../../../shared/fabric/codec.js";
import { HeaderNames, type TaskResult } from "../../../shared/fabric/envelope.js";
import { PermanentError, ShutdownError } from "../../../shared/fabric/errors.js";
import type { ParkInfo, RawMessage } from "../../../shared/fabric/dlq.js";
import { Slots } from "../../../shared/fabric/worker/slots.js";
import { InFlight, type Running } from "../../../shared/fabric/worker/in-flight.js";
import { Heartbeats, type Beating } from "../../../shared/fabric/worker/heartbeats.js";
import { Outbox, type Outgoing } from "../../../shared/fabric/worker/outbox.js";
import { Results } from "../../../shared/fabric/worker/results.js";
import { DeadLetterer, type ParkOptions } from "../../../shared/fabric/worker/dead-letter.js";
import { advisoryConsumer, MaxDeliveries, type AdvisoryMsg, type StreamMessages } from "../../../shared/fabric/worker/max-deliveries.js";
import { Puller, workQueueConsumer, type Batch, type PullOwner } from "../../../shared/fabric/worker/pull.js";
import { QueuedTasks, type QueuedDeps } from "../../../shared/fabric/worker/queued.js";
import { Requests, type RequestDeps } from "../../../shared/fabric/worker/requests.js";
import { observed, type TaskInfo, type WorkerObserver } from "../../../shared/fabric/worker/observers.js";
import type { Log, RequestMsg, RunTask, TaskMsg } from "../../../shared/fabric/worker/ports.js";
import { waitFor } from "../../harness/wait.js";

// ---- fakes ----------------------------------------------------------------------------

function fakeLog() {
  return { info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Record<keyof Log, unknown> as unknown as Log & {
    info: ReturnType<typeof vi.fn>;
    warn: ReturnType<typeof vi.fn>;
    error: ReturnType<typeof vi.fn>;
  };
}

/** A queued task as a pull consumer would deliver it; `events` records what was done to it, in order. */
function taskMsg(o: { data?: Uint8Array; headers?: MsgHdrs; attempt?: number; seq?: number; events?: string[] } = {}) {
  const events = o.events ?? [];
  const seq = o.seq ?? 7;
  return {
    subject: "q.jobs.unit",
    data: o.data ?? encode({ n: 1 }),
    headers: o.headers,
    seq,
    info: { stream: "JOBS", streamSequence: seq, deliveryCount: o.attempt ?? 1 },
    ack: vi.fn(() => void events.push("ack")),
    nak: vi.fn((ms?: number) => void events.push(`nak:${ms}`)),
    term: vi.fn(() => void events.push("term")),
    working: vi.fn(() => void events.push("working")),
  } satisfies TaskMsg;
}

function hdrs(entries: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(entries)) h.set(k, v);
  return h;
}

function deferred<V = void>() {
  let resolve!: (v: V) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<V>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** An async iterable fed by hand: what a subscription or a consumer's messages are to the units. */
function channel<V>() {
  const items: V[] = [];
  let waiting: (() => void) | undefined;
  let over = false;
  const stop = vi.fn(() => {
    over = true;
    waiting?.();
  });
  return {
    push(v: V) {
      items.push(v);
      waiting?.();
    },
    stop,
    unsubscribe: stop,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length > 0) {
          yield items.shift()!;
          continue;
        }
        if (over) return;
        await new Promise<void>((r) => (waiting = r));
        waiting = undefined;
      }
    },
  };
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

function entry(msg?: Running["msg"]): Running {
  return { msg, handedBack: false, done: Promise.resolve(), beat: 0 };
}

// ---- slots and the tasks in flight ------------------------------------------------------

describe("slots", () => {
  test("a free slot is taken synchronously; with none free, a released slot goes to the longest waiter first", async () => {
    const slots = new Slots(1);
    expect(slots.take()).toBeUndefined();
    const order: string[] = [];
    const first = slots.take();
    const second = slots.take();
    expect(first).toBeInstanceOf(Promise);
    void first!.then(() => order.push("first"));
    void second!.then(() => order.push("second"));
    slots.release();
    await first;
    expect(order).toEqual(["first"]);
    slots.release();
    await second;
    expect(order).toEqual(["first", "second"]);
    // Both waiters served and both slots back: one is free again, the other was never given out.
    slots.release();
    expect(slots.take()).toBeUndefined();
  });
});

describe("in flight", () => {
  test("a task that finishes synchronously frees its slot at once; an async one when it settles", async () => {
    const freed = vi.fn();
    const tasks = new InFlight({ freed }, fakeLog());
    tasks.track(undefined, () => undefined);
    expect(freed).toHaveBeenCalledTimes(1);
    expect(tasks.size).toBe(0);
    const d = deferred();
    tasks.track(undefined, () => d.promise);
    expect(tasks.size).toBe(1);
    expect(freed).toHaveBeenCalledTimes(1);
    d.resolve();
    await waitFor("the async task's slot freed", () => freed.mock.calls.length === 2);
    expect(tasks.size).toBe(0);
  });

  test("a runner that throws or rejects is logged and still frees its slot", async () => {
    const freed = vi.fn();
    const log = fakeLog();
    const tasks = new InFlight({ freed }, log);
    tasks.track(undefined, () => {
      throw new Error("sync boom");
    });
    tasks.track(undefined, () => Promise.reject(new Error("async boom")));
    await waitFor("both slots freed", () => freed.mock.calls.length === 2);
    expect(tasks.size).toBe(0);
    expect(log.error.mock.calls.map((c) => (c[0] as { err: string }).err)).toEqual(["sync boom", "async boom"]);
  });

  test("close() hands back a task still running after the grace with an immediate nak and aborts the handlers' signal", async () => {
    const tasks = new InFlight({ freed: () => {} }, fakeLog());
    const msg = { nak: vi.fn(), working: vi.fn() };
    let running: Running | undefined;
    tasks.track(msg, (e) => ((running = e), new Promise<void>(() => {})));
    const handedBack = await tasks.close(1);
    expect(handedBack).toBe(1);
    expect(running!.handedBack).toBe(true);
    expect(msg.nak).toHaveBeenCalledWith();
    expect(tasks.signal.aborted).toBe(true);
    expect(tasks.signal.reason).toBeInstanceOf(ShutdownError);
  });

  test("close() hands nothing back when every task finishes within the grace", async () => {
    const tasks = new InFlight({ freed: () => {} }, fakeLog());
    const msg = { nak: vi.fn(), working: vi.fn() };
    const d = deferred();
    tasks.track(msg, () => d.promise);
    const closing = tasks.close(60_000);
    d.resolve();
    expect(await closing).toBe(0);
    expect(msg.nak).not.toHaveBeenCalled();
    expect(tasks.signal.aborted).toBe(false);
  });
});

// ---- heartbeats ---------------------------------------------------------------------------

describe("heartbeats", () => {
  test("a tick beats only queued tasks whose last beat is half a period old, never a handed-back one", () => {
    let now = 1000;
    const due: Beating = { msg: { working: vi.fn() }, handedBack: false, beat: 950 };
    const fresh: Beating = { msg: { working: vi.fn() }, handedBack: false, beat: 951 };
    const handedBack: Beating = { msg: { working: vi.fn() }, handedBack: true, beat: 0 };
    const request: Beating = { handedBack: false, beat: 0 };
    const beats = new Heartbeats([due, fresh, handedBack, request], { heartbeat: 100, now: () => now });
    expect(beats.every).toBe(50);
    beats.tick();
    expect(due.msg!.working).toHaveBeenCalledTimes(1);
    expect(due.beat).toBe(1000);
    expect(fresh.msg!.working).not.toHaveBeenCalled();
    expect(handedBack.msg!.working).not.toHaveBeenCalled();
    expect(request.beat).toBe(0);
    now = 1001;
    beats.tick(); // `due` was just beaten: not again so soon; `fresh` is due now
    expect(due.msg!.working).toHaveBeenCalledTimes(1);
    expect(fresh.msg!.working).toHaveBeenCalledTimes(1);
  });

  test("a handler's working() restamps its task and extends the ack wait, unless the task was handed back", () => {
    const task: Beating & { handedBack: boolean } = { msg: { working: vi.fn() }, handedBack: false, beat: 0 };
    const beats = new Heartbeats([], { heartbeat: 100, now: () => 42 });
    beats.beat(task);
    expect(task.beat).toBe(42);
    expect(task.msg!.working).toHaveBeenCalledTimes(1);
    task.handedBack = true;
    beats.beat(task);
    expect(task.msg!.working).toHaveBeenCalledTimes(1);
  });

  test("once started, the timer beats a due task on its own until stopped", async () => {
    const task: Beating = { msg: { working: vi.fn() }, handedBack: false, beat: -Infinity };
    const beats = new Heartbeats([task], { heartbeat: 2 });
    beats.start();
    try {
      await waitFor("a beat from the timer", () => vi.mocked(task.msg!.working).mock.calls.length > 0, 10_000, 5);
    } finally {
      beats.stop();
    }
    expect(task.beat).toBeGreaterThan(-Infinity);
  });
});

// ---- outbox and results -------------------------------------------------------------------

describe("outbox", () => {
  test("the outbox sends nothing until the turn's flush, then each reply before its task's ack, in order, in one flush", async () => {
    const events: string[] = [];
    const nc = { publish: vi.fn((to: string) => void events.push(`publish:${to}`)) };
    const outbox = new Outbox(nc, fakeLog());
    const ack = (name: string) => ({ ack: () => void events.push(`ack:${name}`) });
    outbox.send({ to: "inbox.a", data: encode("a"), ack: ack("a") });
    outbox.send({ ack: ack("b") });
    outbox.send({ to: "inbox.c", data: encode("c") });
    expect(events).toEqual([]);
    await nextTurn();
    expect(events).toEqual(["publish:inbox.a", "ack:a", "ack:b", "publish:inbox.c"]);
  });

  test("a reply that cannot be sent leaves its task unacked (redelivered) and the rest of the flush goes out", () => {
    const log = fakeLog();
    const nc = {
      publish: vi.fn((to: string) => {
        if (to === "inbox.closed") throw new Error("connection closed");
      }),
    };
    const outbox = new Outbox(nc, log);
    const lost = { ack: vi.fn() };
    const next = { ack: vi.fn() };
    outbox.send({ to: "inbox.closed", data: encode(1), ack: lost });
    outbox.send({ to: "inbox.ok", data: encode(2), ack: next });
    outbox.flush();
    expect(lost.ack).not.toHaveBeenCalled();
    expect(next.ack).toHaveBeenCalledTimes(1);
    expect(nc.publish).toHaveBeenLastCalledWith("inbox.ok", encode(2), { headers: undefined });
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  test("flush() sends what is queued at once, and the turn's scheduled flush sends none of it twice", async () => {
    const nc = { publish: vi.fn() };
    const outbox = new Outbox(nc, fakeLog());
    outbox.send({ to: "inbox.a", data: encode("a") });
    outbox.flush();
    expect(nc.publish).toHaveBeenCalledTimes(1);
    await nextTurn();
    expect(nc.publish).toHaveBeenCalledTimes(1);
  });
});

describe("results", () => {
  const queues = { wireSubject: (s: string) => `q.${s}` };

  test("a result for the distributor's inbox carries the task id header, with the outbox and when delivered at once", async () => {
    const nc = { publish: vi.fn() };
    const js = { publish: vi.fn(async () => ({})) };
    const results = new Results({ nc, js, queues });
    const ok: TaskResult = { id: "task-1", subject: "jobs.unit", ok: true, value: 3 };
    const reply = results.reply("inbox.1", ok);
    expect(reply.to).toBe("inbox.1");
    expect(decode(reply.data!)).toEqual(ok);
    expect(reply.headers?.get(HeaderNames.taskId)).toBe("task-1");

    const failed: TaskResult = { id: "task-2", subject: "jobs.unit", ok: false, error: { name: "E", message: "m", code: "E_TASK", permanent: true } };
    await results.deliver(hdrs({ [HeaderNames.replyTo]: "inbox.2" }), "JOBS.9", failed);
    expect(nc.publish).toHaveBeenCalledTimes(1);
    const [to, data, opts] = nc.publish.mock.calls[0] as [string, Uint8Array, { headers: MsgHdrs }];
    expect(to).toBe("inbox.2");
    expect(decode(data)).toEqual(failed);
    expect(opts.headers.get(HeaderNames.taskId)).toBe("task-2");
    expect(opts.headers.get(CONTENT_TYPE)).toBe(MSGPACK);
    expect(js.publish).not.toHaveBeenCalled();
  });

  test("a result for a results queue is queued on its wire subject as task <id>.result, deduplicated per delivery", async () => {
    const nc = { publish: vi.fn() };
    const js = { publish: vi.fn(async () => ({})) };
    const results = new Results({ nc, js, queues });
    const ok: TaskResult = { id: "task-3", subject: "jobs.unit", ok: true, value: "v" };
    await results.deliver(hdrs({ [HeaderNames.resultsTo]: "jobs.out" }), "JOBS.12", ok);
    expect(nc.publish).not.toHaveBeenCalled();
    const [subject, data, opts] = js.publish.mock.calls[0] as unknown as [string, Uint8Array, { msgID: string; headers: MsgHdrs }];
    expect(subject).toBe("q.jobs.out");
    expect(decode(data)).toEqual(ok);
    expect(opts.msgID).toBe("task-3.result.JOBS.12");
    expect(opts.headers.get(HeaderNames.taskId)).toBe("task-3.result");
  });

  test("a result nobody asked for goes nowhere", async () => {
    const nc = { publish: vi.fn() };
    const js = { publish: vi.fn(async () => ({})) };
    await new Results({ nc, js, queues }).deliver(undefined, "JOBS.1", { id: "x", subject: "s", ok: true, value: 1 });
    expect(nc.publish).not.toHaveBeenCalled();
    expect(js.publish).not.toHaveBeenCalled();
  });
});

// ---- dead letters -------------------------------------------------------------------------

function deadLetterer(
  o: {
    park?: (msg: RawMessage, info: ParkInfo) => Promise<void>;
    keep?: (c: { data: Uint8Array; reason: string }) => { data: Uint8Array; reason: string };
    events?: string[];
  } = {},
) {
  const events = o.events ?? [];
  const parked: { msg: RawMessage; info: ParkInfo }[] = [];
  const delivered: { headers?: MsgHdrs; delivery: string; result: TaskResult }[] = [];
  const dlq = {
    park:
      o.park ??
      (async (msg: RawMessage, info: ParkInfo) => {
        events.push("park");
        parked.push({ msg, info });
      }),
  };
  const results = {
    deliver: async (headers: MsgHdrs | undefined, delivery: string, result: TaskResult) => {
      events.push("deliver");
      delivered.push({ headers, delivery, result });
    },
  };
  const counts = { deadLettered: 0 };
  const log = fakeLog();
  const dl = new DeadLetterer({ dlq, results, counts, log }, { subject: "jobs.unit", decode, keep: o.keep, retryDelay: 250 });
  return { dl, parked, delivered, counts, log, events };
}

describe("dead letters", () => {
  test("a task given up is parked with its reason and kind, the distributor gets the handler's own error, then the task is termed", async () => {
    const events: string[] = [];
    const { dl, parked, delivered, counts } = deadLetterer({ events });
    const m = taskMsg({ headers: hdrs({ [HeaderNames.replyTo]: "inbox.9" }), seq: 31, attempt: 5, events });
    await dl.deadLetter(m, { id: "t-31", attempts: 5, err: new Error("disk full"), kind: "exhausted" });
    expect(events).toEqual(["park", "deliver", "term"]);
    expect(parked[0].msg.subject).toBe("q.jobs.unit");
    expect(parked[0].info).toEqual({ stream: "JOBS", streamSeq: 31, attempts: 5, reason: "failed 5 times; last error: Error: disk full", kind: "exhausted" });
    expect(delivered[0].delivery).toBe("JOBS.31");
    expect(delivered[0].result).toEqual({
      id: "t-31",
      subject: "jobs.unit",
      ok: false,
      error: { name: "Error", message: "disk full", code: "E_TASK", permanent: false },
      task: { n: 1 },
    });
    expect(counts.deadLettered).toBe(1);
  });

  test("a permanent failure's reason says so", async () => {
    const { dl, parked } = deadLetterer();
    await dl.deadLetter(taskMsg(), { id: "t", attempts: 1, err: new PermanentError("bad input"), kind: "permanent" });
    expect(parked[0].info.reason).toBe("permanent failure: PermanentError: bad input");
    expect(parked[0].info.kind).toBe("permanent");
  });

  test("the keep option decides what the dead-letter stream holds; the distributor's result still carries the task", async () => {
    const { dl, parked, delivered } = deadLetterer({ keep: (c) => ({ data: encode({ redacted: true }), reason: c.reason.replace("s3cret", "***") }) });
    const m = taskMsg({ data: encode({ token: "s3cret" }) });
    await dl.deadLetter(m, { id: "t", attempts: 1, err: new PermanentError("token s3cret refused"), kind: "permanent" });
    expect(decode(parked[0].msg.data)).toEqual({ redacted: true });
    expect(parked[0].info.reason).toBe("permanent failure: PermanentError: token *** refused");
    expect(delivered[0].result.ok === false && delivered[0].result.task).toEqual({ token: "s3cret" });
  });

  test("a task that cannot be parked is nak'ed with the retry delay and never termed", async () => {
    const { dl, counts, delivered, log } = deadLetterer({ park: async () => Promise.reject(new Error("DLQ unavailable")) });
    const m = taskMsg();
    await dl.deadLetter(m, { id: "t", attempts: 5, err: new Error("x"), kind: "exhausted" });
    expect(m.nak).toHaveBeenCalledWith(250);
    expect(m.term).not.toHaveBeenCalled();
    expect(counts.deadLettered).toBe(0);
    expect(delivered).toEqual([]);
    expect(log.error).toHaveBeenCalledTimes(1);
  });

  test("park without a handler's error tells the distributor DeadLettered (E_DEAD_LETTER); an undecodable task rides along as nothing", async () => {
    const { dl, delivered } = deadLetterer();
    const park: ParkOptions = {
      msg: { subject: "q.jobs.unit", data: new Uint8Array([0xc1]) },
      stream: "JOBS",
      streamSeq: 4,
      attempts: 3,
      reason: "no ack after 3 deliveries",
      kind: "exhausted",
      id: "t-4",
    };
    await dl.park(park);
    const r = delivered[0].result;
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toEqual({ name: "DeadLettered", message: "no ack after 3 deliveries", code: "E_DEAD_LETTER", permanent: true });
    expect(r.task).toBeUndefined();
  });
});

// ---- max-deliveries advisories ------------------------------------------------------------

function advisory(body: { stream_seq: number; deliveries: number }) {
  return { json: <T>() => body as T, ack: vi.fn(), nak: vi.fn() } satisfies AdvisoryMsg;
}

function maxDeliveries(o: { stored?: { subject: string; data: Uint8Array; header?: MsgHdrs } | null; park?: (p: ParkOptions) => Promise<void> } = {}) {
  const events: string[] = [];
  const parked: ParkOptions[] = [];
  const streams = {
    getMessage: vi.fn(async () =>
      o.stored === undefined ? { subject: "q.jobs.unit", data: encode({ n: 2 }), header: hdrs({ [HeaderNames.taskId]: "t-5" }) } : o.stored,
    ),
    deleteMessage: vi.fn(async () => (events.push("delete"), true)),
  } satisfies StreamMessages;
  const parker = {
    park:
      o.park ??
      (async (p: ParkOptions) => {
        events.push("park");
        parked.push(p);
      }),
  };
  const watcher = new MaxDeliveries({ streams, parker, log: fakeLog() }, { stream: "JOBS", retryDelay: 123 });
  return { watcher, streams, parked, events };
}

describe("max-deliveries advisories", () => {
  test("an advisory parks its task as exhausted with the server's delivery count, deletes it from its stream, then acks", async () => {
    const { watcher, streams, parked, events } = maxDeliveries();
    const a = advisory({ stream_seq: 5, deliveries: 3 });
    a.ack.mockImplementation(() => void events.push("ack"));
    await watcher.handle(a);
    expect(streams.getMessage).toHaveBeenCalledWith("JOBS", { seq: 5 });
    expect(events).toEqual(["park", "delete", "ack"]);
    expect(parked[0]).toMatchObject({ stream: "JOBS", streamSeq: 5, attempts: 3, kind: "exhausted", id: "t-5" });
    expect(parked[0].cause).toBeUndefined();
    expect(parked[0].reason).toContain("no ack after 3 deliveries");
    expect(streams.deleteMessage).toHaveBeenCalledWith("JOBS", 5, false);
  });

  test("a task without a task id header is named by its stream and sequence", async () => {
    const { watcher, parked } = maxDeliveries({ stored: { subject: "q.jobs.unit", data: encode(1) } });
    await watcher.handle(advisory({ stream_seq: 8, deliveries: 5 }));
    expect(parked[0].id).toBe("JOBS.8");
  });

  test("an advisory for a task that is gone already is acked with nothing parked", async () => {
    const { watcher, parked, streams } = maxDeliveries({ stored: null });
    const a = advisory({ stream_seq: 5, deliveries: 3 });
    await watcher.handle(a);
    expect(parked).toEqual([]);
    expect(streams.deleteMessage).not.toHaveBeenCalled();
    expect(a.ack).toHaveBeenCalledTimes(1);
  });

  test("an advisory whose task cannot be parked is nak'ed to come back after the retry delay, and the task stays", async () => {
    const { watcher, streams } = maxDeliveries({ park: async () => Promise.reject(new Error("DLQ unavailable")) });
    const a = advisory({ stream_seq: 5, deliveries: 3 });
    await watcher.handle(a);
    expect(a.nak).toHaveBeenCalledWith(123);
    expect(a.ack).not.toHaveBeenCalled();
    expect(streams.deleteMessage).not.toHaveBeenCalled();
  });

  test("watch() handles each advisory as it arrives until stop()", async () => {
    const { watcher, parked } = maxDeliveries();
    const advisories = channel<AdvisoryMsg>();
    const watching = watcher.watch(advisories);
    advisories.push(advisory({ stream_seq: 1, deliveries: 2 }));
    advisories.push(advisory({ stream_seq: 2, deliveries: 2 }));
    await waitFor("both advisories handled", () => parked.length === 2);
    watcher.stop();
    await watching;
    expect(advisories.stop).toHaveBeenCalledTimes(1);
    expect(parked.map((p) => p.streamSeq)).toEqual([1, 2]);
  });

  test("the advisory consumer is the durable's own, on its max-deliveries advisories only", () => {
    const c = advisoryConsumer("JOBS", "jobs_unit");
    expect(c.durable_name).toBe("adv_jobs_unit");
    expect(c.filter_subject).toBe("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.JOBS.jobs_unit");
  });
});

// ---- pulling ------------------------------------------------------------------------------

type Pulled = { name: string; nak: Mock<(millis?: number) => void> };

/** A pull owner with `slots` free; a task that finds no slot waits for `free()`. */
function pullOwner(slots: number) {
  let free = slots;
  const waiters: (() => void)[] = [];
  const owner = {
    inFlight: 0,
    ran: [] as string[],
    released: 0,
    take: () => {
      if (free > 0) return void free--;
      return new Promise<void>((r) => waiters.push(r));
    },
    release: () => void owner.released++,
    run: (m: Pulled) => {
      owner.inFlight++;
      owner.ran.push(m.name);
    },
    /** A running task is over: its slot goes to a waiter or back. */
    finish: () => {
      owner.inFlight--;
      const next = waiters.shift();
      if (next) next();
      else free++;
    },
  } satisfies PullOwner<Pulled> & Record<string, unknown>;
  return owner;
}

/** A pull source whose every fetch is recorded and answered by hand. */
function pullSource() {
  const fetches: { max_messages: number; answer: ReturnType<typeof deferred<Batch<Pulled>>> }[] = [];
  return {
    fetches,
    fetch(opts: { max_messages: number; expires: number }) {
      const answer = deferred<Batch<Pulled>>();
      fetches.push({ max_messages: opts.max_messages, answer });
      return answer.promise;
    },
  };
}

function batch(...names: string[]) {
  const ch = channel<Pulled>();
  const msgs: Pulled[] = names.map((name) => ({ name, nak: vi.fn() }));
  for (const m of msgs) ch.push(m);
  ch.stop(); // a batch ends once its messages are out
  ch.stop.mockClear();
  return Object.assign(ch, { msgs });
}

describe("pulling", () => {
  test("the puller asks for the free room only (concurrency plus prefetch, less running and buffered); a full worker pulls again once a slot frees up", async () => {
    const owner = pullOwner(1);
    const source = pullSource();
    const puller = new Puller<Pulled>(owner, { limit: 2, log: fakeLog() }); // concurrency 1 + prefetch 1
    const pulling = puller.run(source);
    await waitFor("the first pull", () => source.fetches.length === 1);
    expect(source.fetches[0].max_messages).toBe(2);
    source.fetches[0].answer.resolve(batch("a", "b"));
    await waitFor("a runs, b waits for a slot", () => owner.ran.length === 1 && puller.waiting === 1);
    expect(owner.ran).toEqual(["a"]);
    // Full (one running, one buffered): a wake-up finds no room and does not pull.
    puller.wake();
    await nextTurn();
    expect(source.fetches.length).toBe(1);
    owner.finish(); // a is over: b takes its slot, and the prefetch has room for one again
    await waitFor("b runs", () => owner.ran.length === 2);
    puller.wake();
    await waitFor("the second pull", () => source.fetches.length === 2);
    expect(source.fetches[1].max_messages).toBe(1);
    puller.stop();
    source.fetches[1].answer.resolve(batch());
    await pulling;
  });

  test("buffered tasks are handed back at once with a nak at shutdown, and one whose slot comes later does not run", async () => {
    const owner = pullOwner(1);
    const source = pullSource();
    const puller = new Puller<Pulled>(owner, { limit: 2, log: fakeLog() });
    const pulling = puller.run(source);
    await waitFor("the first pull", () => source.fetches.length === 1);
    const b = batch("a", "b");
    source.fetches[0].answer.resolve(b);
    await waitFor("b buffered", () => puller.waiting === 1);
    puller.stop();
    puller.handBackBuffered();
    expect(b.msgs[1].nak).toHaveBeenCalledWith();
    expect(puller.waiting).toBe(0);
    owner.finish(); // a's slot frees: b's wait ends, but b is no longer ours
    await waitFor("b's slot given back", () => owner.released === 1);
    expect(owner.ran).toEqual(["a"]);
    await pulling;
  });

  test("a task that arrives after stop() is handed straight back and its pull is stopped", async () => {
    const owner = pullOwner(4);
    const source = pullSource();
    const puller = new Puller<Pulled>(owner, { limit: 4, log: fakeLog() });
    const pulling = puller.run(source);
    await waitFor("the first pull", () => source.fetches.length === 1);
    puller.stop();
    const late = batch("late");
    source.fetches[0].answer.resolve(late);
    await pulling;
    expect(late.stop).toHaveBeenCalled();
    expect(late.msgs[0].nak).toHaveBeenCalledWith();
    expect(owner.ran).toEqual([]);
  });

  test("a failed pull is logged and tried again; stop() cuts the pause short", async () => {
    const owner = pullOwner(1);
    const log = fakeLog();
    let fetches = 0;
    const source = { fetch: async () => (fetches++, Promise.reject(new Error("consumer deleted"))) };
    const puller = new Puller<Pulled>(owner, { limit: 1, retryDelay: 600_000, log });
    const pulling = puller.run(source);
    await waitFor("the failure logged", () => log.warn.mock.calls.length === 1);
    puller.stop();
    await pulling; // would wait out the 10-minute pause without stop()
    expect(fetches).toBe(1);
    expect(log.warn.mock.calls[0][0]).toEqual({ err: "consumer deleted" });
  });

  test("the work-queue consumer acks explicitly, and caps the acks pending at max(1000, 4 x concurrency)", () => {
    const small = workQueueConsumer({ durable: "jobs_unit", wire: "q.jobs.unit", ackWait: 1500, maxDeliver: 3, concurrency: 8 });
    expect(small).toMatchObject({ durable_name: "jobs_unit", filter_subject: "q.jobs.unit", ack_policy: "explicit", max_deliver: 3, max_ack_pending: 1000 });
    expect(small.ack_wait).toBe(1500 * 1_000_000);
    expect(workQueueConsumer({ durable: "d", wire: "q.d", ackWait: 1, maxDeliver: 1, concurrency: 400 }).max_ack_pending).toBe(1600);
  });
});

// ---- queued tasks -------------------------------------------------------------------------

function queued(run: RunTask, o: { backoff?: number[]; maxDeliver?: number } = {}) {
  const sent: Outgoing[] = [];
  const events: string[] = [];
  const delivered: { headers?: MsgHdrs; delivery: string; result: TaskResult }[] = [];
  const givenUp: { m: TaskMsg; id: string; attempts: number; err: unknown; kind: string }[] = [];
  const beat = vi.fn();
  const counts = { processed: 0, failed: 0 };
  const results = new Results({ nc: { publish: vi.fn() }, js: { publish: vi.fn(async () => ({})) }, queues: { wireSubject: (s) => `q.${s}` } });
  const deps: QueuedDeps = {
    run,
    beats: { beat },
    outbox: { send: (out) => void (events.push("send"), sent.push(out)) },
    results: {
      reply: (to, r) => results.reply(to, r),
      deliver: async (headers, delivery, result) => void (events.push("deliver"), delivered.push({ headers, delivery, result })),
    },
    deadLetters: { deadLetter: async (m, g) => void givenUp.push({ m, ...g }) },
    counts,
    log: fakeLog(),
  };
  const tasks = new QueuedTasks(deps, { subject: "jobs.unit", maxDeliver: o.maxDeliver ?? 5, backoff: o.backoff ?? [10, 20] });
  return { tasks, sent, events, delivered, givenUp, beat, counts };
}

describe("queued tasks", () => {
  test("a task that succeeds for an inbox is one outbox item: its result reply with the task id header, and its ack", async () => {
    const { tasks, sent, counts } = queued((data) => (decode(data) as { n: number }).n + 1);
    const m = taskMsg({ headers: hdrs({ [HeaderNames.taskId]: "t-1", [HeaderNames.replyTo]: "inbox.1" }) });
    await tasks.run(m, entry(m));
    expect(sent).toHaveLength(1);
    expect(sent[0].to).toBe("inbox.1");
    expect(sent[0].ack).toBe(m);
    expect(sent[0].headers?.get(HeaderNames.taskId)).toBe("t-1");
    expect(decode(sent[0].data!)).toEqual({ id: "t-1", subject: "jobs.unit", ok: true, value: 2 });
    expect(counts).toEqual({ processed: 1, failed: 0 });
    expect(m.ack).not.toHaveBeenCalled(); // the outbox acks, with the turn's batch
  });

  test("a task nobody awaits is acked with no reply; its id is stream.seq without a task id header", async () => {
    const ids: string[] = [];
    const { tasks, sent } = queued((_d, _h, run) => void ids.push(run.id));
    const m = taskMsg({ seq: 44 });
    await tasks.run(m, entry(m));
    expect(sent).toEqual([{ ack: m }]);
    expect(ids).toEqual(["JOBS.44"]);
  });

  test("a task with a results queue has its result delivered before its ack is queued", async () => {
    const { tasks, events, delivered, sent } = queued(() => "done");
    const m = taskMsg({ headers: hdrs({ [HeaderNames.taskId]: "t-2", [HeaderNames.resultsTo]: "jobs.out" }), seq: 9 });
    await tasks.run(m, entry(m));
    expect(events).toEqual(["deliver", "send"]);
    expect(delivered[0].delivery).toBe("JOBS.9");
    expect(delivered[0].result).toEqual({ id: "t-2", subject: "jobs.unit", ok: true, value: "done" });
    expect(sent).toEqual([{ ack: m }]);
  });

  test("a failed attempt before the last is nak'ed with that attempt's backoff; the schedule's last entry repeats", async () => {
    const { tasks, counts, givenUp } = queued(
      () => {
        throw new Error("flaky");
      },
      { backoff: [10, 20], maxDeliver: 10 },
    );
    const delays: unknown[] = [];
    for (const attempt of [1, 2, 3, 9]) {
      const m = taskMsg({ attempt });
      await tasks.run(m, entry(m));
      delays.push(m.nak.mock.calls[0]?.[0]);
    }
    expect(delays).toEqual([10, 20, 20, 20]);
    expect(counts.failed).toBe(4);
    expect(givenUp).toEqual([]);
  });

  test("with no backoff schedule a retry is at once", async () => {
    const { tasks } = queued(
      () => {
        throw new Error("flaky");
      },
      { backoff: [] },
    );
    const m = taskMsg({ attempt: 1 });
    await tasks.run(m, entry(m));
    expect(m.nak).toHaveBeenCalledWith(0);
  });

  test("a permanent error is given up on the first attempt, any error on the last; an undecodable task is permanent", async () => {
    const { tasks, givenUp } = queued((data, h) => {
      if (h?.get("fail") === "permanent") throw new PermanentError("bad input");
      if (h?.get("fail") === "decode") return decode(data);
      throw new Error("flaky");
    });
    const permanent = taskMsg({ attempt: 1, headers: hdrs({ fail: "permanent", [HeaderNames.taskId]: "p" }) });
    const last = taskMsg({ attempt: 5, headers: hdrs({ fail: "transient", [HeaderNames.taskId]: "l" }) });
    const garbage = taskMsg({ attempt: 1, data: new Uint8Array([0xc1]), headers: hdrs({ fail: "decode", [HeaderNames.taskId]: "g" }) });
    for (const m of [permanent, last, garbage]) await tasks.run(m, entry(m));
    expect(givenUp.map((g) => [g.id, g.attempts, g.kind])).toEqual([
      ["p", 1, "permanent"],
      ["l", 5, "exhausted"],
      ["g", 1, "permanent"],
    ]);
    expect(givenUp[0].m).toBe(permanent);
    for (const m of [permanent, last, garbage]) expect(m.nak).not.toHaveBeenCalled();
  });

  test("a task handed back while it ran is neither acked, answered, retried nor counted: it is the next worker's", async () => {
    const gate = deferred<unknown>();
    const { tasks, sent, counts, givenUp } = queued(() => gate.promise);
    const m = taskMsg({ headers: hdrs({ [HeaderNames.replyTo]: "inbox.1" }), attempt: 5 });
    const e = entry(m);
    const ok = tasks.run(m, e);
    e.handedBack = true;
    gate.resolve("late");
    await ok;
    const failing = queued(() => Promise.reject(new Error("aborted")));
    const m2 = taskMsg({ attempt: 1 });
    const e2 = { ...entry(m2), handedBack: true };
    await failing.tasks.run(m2, e2);
    expect(sent).toEqual([]);
    expect(counts).toEqual({ processed: 0, failed: 0 });
    expect(givenUp).toEqual([]);
    expect(m2.nak).not.toHaveBeenCalled();
    expect(failing.counts).toEqual({ processed: 0, failed: 0 });
  });

  test("the handler's working() beats its own task through the heartbeats; attempt is the delivery count", async () => {
    let attempt = 0;
    const { tasks, beat } = queued((_d, _h, run) => {
      attempt = run.attempt;
      run.working();
    });
    const m = taskMsg({ attempt: 3 });
    const e = entry(m);
    await tasks.run(m, e);
    expect(beat).toHaveBeenCalledWith(e);
    expect(attempt).toBe(3);
  });
});

// ---- requests -----------------------------------------------------------------------------

function requests(run: RunTask, o: { maxBody?: number; slots?: RequestDeps["slots"] } = {}) {
  const sent: Outgoing[] = [];
  const tracked: (Promise<void> | undefined)[] = [];
  const counts = { processed: 0, failed: 0 };
  const server = new Requests({
    run,
    slots: o.slots ?? { take: () => undefined },
    tasks: { track: (_m, runIt) => void tracked.push(runIt(entry())) },
    outbox: { send: (out) => void sent.push(out) },
    counts,
    maxBody: () => o.maxBody ?? 1 << 20,
    log: fakeLog(),
  });
  return { server, sent, tracked, counts };
}

const request = (body: unknown, o: { json?: boolean; reply?: string | null } = {}): RequestMsg => ({
  data: encode(body, o.json ? "json" : "msgpack"),
  headers: o.json ? hdrs({ [CONTENT_TYPE]: JSON_TYPE }) : undefined,
  reply: o.reply === null ? undefined : (o.reply ?? "inbox.req"),
});

describe("requests", () => {
  test("a handler that returns a plain value is answered in the same turn, in msgpack without headers", () => {
    const { server, sent, counts } = requests((data) => ({ echo: decode(data) }));
    const pending = server.answer(request("hi"));
    expect(pending).toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(sent[0].to).toBe("inbox.req");
    expect(decode(sent[0].data!)).toEqual({ echo: "hi" });
    expect(sent[0].headers).toBeUndefined();
    expect(sent[0].ack).toBeUndefined();
    expect(counts).toEqual({ processed: 1, failed: 0 });
  });

  test("a JSON request is answered in JSON, saying so; an async handler's answer comes when it resolves", async () => {
    const { server, sent } = requests(async (data, h) => ({ got: decode(data, h) }));
    const pending = server.answer(request({ a: 1 }, { json: true }));
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(sent[0].headers?.get(CONTENT_TYPE)).toBe(JSON_TYPE);
    expect(JSON.parse(new TextDecoder().decode(sent[0].data!))).toEqual({ got: { a: 1 } });
  });

  test("a msgpack answer that would pass for JSON says it is msgpack; one that would not has no headers", () => {
    // msgpack encodes 123 as the one byte 0x7b, "{": codec.formatOf would take it for JSON.
    const sniffed = requests(() => 123);
    void sniffed.server.answer(request(1));
    expect([...sniffed.sent[0].data!]).toEqual([0x7b]);
    expect(sniffed.sent[0].headers?.get(CONTENT_TYPE)).toBe(MSGPACK);
    const plain = requests(() => 124);
    void plain.server.answer(request(1));
    expect(plain.sent[0].headers).toBeUndefined();
  });

  test("a handler that returns nothing answers null, in the caller's format", () => {
    const { server, sent } = requests(() => undefined);
    void server.answer(request(1, { json: true }));
    expect(new TextDecoder().decode(sent[0].data!)).toBe("null");
  });

  test("a handler error, or an undecodable request, is an error body with the status header, counted failed", async () => {
    const { server, sent, counts } = requests((data, h) => {
      const task = decode(data, h) as string;
      if (task === "reject") return Promise.reject(new PermanentError("no such file", "E_NOT_FOUND"));
      throw new Error("boom");
    });
    void server.answer(request("throw"));
    await server.answer(request("reject", { json: true }));
    void server.answer({ data: new Uint8Array([0xc1]), reply: "inbox.req" });
    expect(sent.map((s) => s.headers?.get(HeaderNames.status))).toEqual(["error", "error", "error"]);
    expect(decode(sent[0].data!)).toEqual({ error: "boom", code: "E_TASK", name: "Error", permanent: false });
    expect(sent[1].headers?.get(CONTENT_TYPE)).toBe(JSON_TYPE);
    expect(JSON.parse(new TextDecoder().decode(sent[1].data!))).toEqual({
      error: "no such file",
      code: "E_NOT_FOUND",
      name: "PermanentError",
      permanent: true,
    });
    expect(decode(sent[2].data!)).toMatchObject({ code: "E_DECODE", permanent: true });
    expect(counts).toEqual({ processed: 0, failed: 3 });
  });

  test("an answer over the message limit is an E_TOO_LARGE error now, not a timeout later", () => {
    const { server, sent, counts } = requests(() => "x".repeat(100), { maxBody: 64 });
    void server.answer(request("big"));
    expect(sent).toHaveLength(1);
    expect(sent[0].headers?.get(HeaderNames.status)).toBe("error");
    const body = decode(sent[0].data!) as { code: string; permanent: boolean; error: string };
    expect(body.code).toBe("E_TOO_LARGE");
    expect(body.permanent).toBe(true);
    expect(body.error).toContain("64-byte");
    expect(counts).toEqual({ processed: 0, failed: 1 });
  });

  test("a request with no reply subject is run and counted, and nothing is sent", () => {
    const run = vi.fn(() => "ignored");
    const { server, sent, counts } = requests(run);
    void server.answer(request("fire", { reply: null }));
    expect(run).toHaveBeenCalledTimes(1);
    expect(sent).toEqual([]);
    expect(counts.processed).toBe(1);
  });

  test("serve() runs each request in a slot: one that finds none waits for a slot before it runs", async () => {
    const slot = deferred();
    let takes = 0;
    const run = vi.fn((data: Uint8Array) => decode(data));
    const { server, sent } = requests(run, { slots: { take: () => (takes++ === 0 ? undefined : slot.promise) } });
    const sub = channel<RequestMsg>();
    const serving = server.serve(sub);
    sub.push(request("first"));
    sub.push(request("second"));
    await waitFor("the first answered", () => sent.length === 1);
    await waitFor("the second waiting for a slot", () => takes === 2);
    expect(run).toHaveBeenCalledTimes(1);
    slot.resolve();
    await waitFor("the second answered", () => sent.length === 2);
    expect(sent.map((s) => decode(s.data!))).toEqual(["first", "second"]);
    server.stop();
    await serving;
    expect(sub.unsubscribe).toHaveBeenCalledTimes(1);
  });
});

describe("observers", () => {
  const task: TaskInfo = { id: "t1", subject: "jobs.unit", via: "distribute", attempt: 2 };

  test("without an around observer the task runs as it is, synchronous results staying synchronous", () => {
    expect(observed([], task, () => 7)).toBe(7);
    expect(observed([{ deadLettered: () => undefined }], task, () => 7)).toBe(7);
  });

  test("each around wraps the task once, the first registered outermost, and sees its value and its error", async () => {
    const seen: string[] = [];
    const tracer = (name: string): WorkerObserver => ({
      async around(t, next) {
        seen.push(`${name}>${t.id}#${t.attempt}`);
        try {
          return await next();
        } finally {
          seen.push(`${name}<`);
        }
      },
    });
    await expect(observed([tracer("a"), tracer("b")], task, () => 7)).resolves.toBe(7);
    expect(seen).toEqual(["a>t1#2", "b>t1#2", "b<", "a<"]);
    const boom = new Error("boom");
    await expect(
      observed([tracer("a")], task, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });
});
