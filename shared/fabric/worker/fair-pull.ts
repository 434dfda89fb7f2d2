/**
 * Pulls a fair subject's tasks (see ../fair.ts): one flow per (lane, tenant)
 * with tasks in the stream, each holding up to HEADS tasks pulled ahead (its
 * heads, kept alive with `working()`: two, so that one is ready while the
 * next is pulled), and a FairScheduler choosing which flow's head runs when
 * a slot frees up. A flow whose pull comes back empty while
 * the stream holds none of its tasks ends; its consumer is removed by the
 * server once idle. New flows are found from the stream's per-subject counts,
 * at once when a publisher rings the subject's bell, else every `discoverMs`.
 */
import { sleep } from "../concurrency.js";
import type { Lane } from "../fair.js";
import type { Log } from "./ports.js";
import type { PullOwner, PullSource } from "./pull.js";
import { FairScheduler, type SchedulerOptions } from "./scheduler.js";

/** Where a fair worker's tasks are (the stream and its per-flow consumers). */
export interface FairSource<M> {
  /** Wire subjects of the fair subject that hold tasks (running or not), with how many. */
  backlog(): Promise<ReadonlyMap<string, number>>;
  /** The pull source of one wire subject: its durable consumer, made when missing. */
  open(wire: string): Promise<PullSource<M>>;
  /** The lane of a wire subject; null for one that is not a flow of this subject. */
  laneOf(wire: string): Lane | null;
}

/** What the fair puller reads of a task. */
export interface FairMsg {
  nak(millis?: number): void;
  working(): void;
}

export interface FairPullOptions<M> extends SchedulerOptions {
  /** Tasks running or waiting for a slot at most (concurrency plus prefetch). */
  limit: number;
  /** A task's cost (its `farm-cost` header). */
  costOf(m: M): number;
  /** Backfill tasks dispatched or running at once, at most. Default: no limit but `limit`. */
  backfillSlots?: number;
  /** Ms between `working()` of a head waiting to run (a third of the ack wait). */
  heartbeat: number;
  /** Ms between looks for new flows when no bell rings. Default 1000. */
  discoverMs?: number;
  /**
   * Ms a flow's pull waits for a task. Default 2000: short, because a pull
   * cannot be taken back, and a task handed back at close would otherwise go
   * to this worker's own pull still waiting on the server.
   */
  expires?: number;
  /** Ms to wait after a failed pull or look. Default 1000. */
  retryDelay?: number;
  log: Pick<Log, "warn">;
}

/** Tasks a flow holds pulled ahead. */
const HEADS = 2;

interface Flow<M> {
  wire: string;
  lane: Lane;
  /** Pulled ahead, oldest first, with their costs. */
  heads: { m: M; cost: number }[];
  /** Wakes the flow's loop when its head was taken. */
  taken?: () => void;
  /** Its open pull. */
  fetching?: { stop(): void };
}

export class FairPuller<M extends FairMsg> {
  private readonly flows = new Map<string, Flow<M>>();
  private readonly scheduler: FairScheduler;
  /** Tasks taken from a head, waiting for a slot. */
  private readonly dispatching = new Set<M>();
  /** Backfill tasks dispatched and not finished (see backfillSlots). */
  private backfillBusy = 0;
  private stopping = false;
  private readonly halt = new AbortController();
  private source?: FairSource<M>;
  private bell?: () => void;
  private beats?: NodeJS.Timeout;
  private readonly loops = new Set<Promise<void>>();

  constructor(
    private readonly owner: PullOwner<M>,
    private readonly opts: FairPullOptions<M>,
  ) {
    this.scheduler = new FairScheduler(opts);
  }

  /** Heads and tasks waiting for a slot. */
  get waiting(): number {
    let heads = 0;
    for (const f of this.flows.values()) heads += f.heads.length;
    return heads + this.dispatching.size;
  }

  /** Flows (lane, tenant) being pulled now. */
  get flowCount(): number {
    return this.flows.size;
  }

  /** Looks for flows and pulls them until stop(). */
  async run(source: FairSource<M>): Promise<void> {
    this.source = source;
    this.beats = setInterval(() => {
      for (const f of this.flows.values()) for (const h of f.heads) h.m.working();
    }, this.opts.heartbeat);
    while (!this.stopping) {
      try {
        for (const [wire, n] of await source.backlog()) if (n > 0 && !this.flows.has(wire)) this.start(wire);
      } catch (err) {
        if (this.stopping) break;
        this.opts.log.warn({ err: (err as Error).message }, "looking for fair flows failed; retrying");
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.discoverMs ?? 1000);
        this.bell = () => (clearTimeout(t), resolve());
      });
    }
    await Promise.allSettled([...this.loops]);
  }

  /** A publisher queued tasks: look for new flows now. */
  ring(): void {
    this.bell?.();
  }

  /** A slot freed up: run what is ready. */
  wake(): void {
    this.kick();
  }

  /**
   * Stops taking work. Open pulls are left to expire rather than stopped: the
   * server cannot take a pull back, and a task it delivers to a stopped one
   * would wait out its ack wait; one that arrives now is handed back.
   */
  stop(): void {
    this.stopping = true;
    this.halt.abort();
    clearInterval(this.beats);
    for (const f of this.flows.values()) f.taken?.();
    this.bell?.();
    // A flow with no task in the stream has nothing its pull could bring: stop that pull now, not at its expiry.
    void this.source
      ?.backlog()
      .then((counts) => {
        for (const f of this.flows.values()) if ((counts.get(f.wire) ?? 0) === 0) f.fetching?.stop();
      })
      .catch(() => {});
  }

  /** Ms after stop() until every open pull has expired. */
  get drainMs(): number {
    return this.expires() + 250;
  }

  /**
   * Heads and tasks waiting for a slot have not started: hands them back to
   * the other workers, once this worker's own pulls on the server have expired.
   */
  handBackBuffered(): void {
    const after = this.expires() + 250;
    for (const f of this.flows.values()) {
      for (const h of f.heads) h.m.nak(after);
      f.heads = [];
    }
    for (const m of this.dispatching) m.nak(after);
    this.dispatching.clear();
  }

  private expires(): number {
    return this.opts.expires ?? 2000;
  }

  private start(wire: string): void {
    const lane = this.source!.laneOf(wire);
    if (!lane) return;
    const flow: Flow<M> = { wire, lane, heads: [] };
    this.flows.set(wire, flow);
    const loop = this.pull(flow).finally(() => {
      this.flows.delete(wire);
      this.scheduler.drop(wire);
      this.loops.delete(loop);
    });
    this.loops.add(loop);
  }

  /** Keeps tasks of the flow pulled ahead until the flow has none left in the stream. */
  private async pull(flow: Flow<M>): Promise<void> {
    const source = this.source!;
    let from: PullSource<M> | undefined;
    while (!this.stopping) {
      if (flow.heads.length >= HEADS) {
        await new Promise<void>((resolve) => (flow.taken = resolve));
        continue;
      }
      try {
        from ??= await source.open(flow.wire);
        const batch = await from.fetch({ max_messages: HEADS - flow.heads.length, expires: this.expires() });
        flow.fetching = batch;
        let got = false;
        for await (const m of batch) {
          got = true;
          if (this.stopping) {
            m.nak(this.expires() + 250);
            continue;
          }
          flow.heads.push({ m, cost: this.opts.costOf(m) });
          this.kick();
        }
        flow.fetching = undefined;
        if (this.stopping) return;
        // Nothing came for a whole pull, and the stream holds none of its tasks: the flow is over.
        if (!got && flow.heads.length === 0 && ((await source.backlog()).get(flow.wire) ?? 0) === 0) return;
      } catch (err) {
        if (this.stopping) return;
        this.opts.log.warn({ wire: flow.wire, err: (err as Error).message }, "fair pull failed; retrying");
        from = undefined;
        await sleep(this.opts.retryDelay ?? 1000, this.halt.signal);
      }
    }
  }

  /** Runs heads, as the scheduler orders them, while there is room. */
  private kick(): void {
    while (!this.stopping && this.opts.limit - this.owner.inFlight - this.dispatching.size > 0) {
      const backfillRoom = this.backfillBusy < (this.opts.backfillSlots ?? Infinity);
      const ready = [...this.flows.values()]
        .filter((f) => f.heads.length > 0 && (backfillRoom || f.lane === "interactive"))
        .map((f) => ({ key: f.wire, lane: f.lane, cost: f.heads[0].cost }));
      const pick = this.scheduler.next(ready);
      if (!pick) return;
      const flow = this.flows.get(pick.key)!;
      const { m } = flow.heads.shift()!;
      flow.taken?.();
      void this.dispatch(m, flow.lane);
    }
  }

  private async dispatch(m: M, lane: Lane): Promise<void> {
    const backfill = lane === "backfill";
    if (backfill) this.backfillBusy++;
    const over = () => {
      if (backfill) this.backfillBusy--;
    };
    this.dispatching.add(m);
    const wait = this.owner.take();
    if (wait) await wait;
    // handBackBuffered() took it back: no longer ours to run.
    if (!this.dispatching.delete(m)) {
      over();
      return this.owner.release();
    }
    // Counted until it has finished: the slot it frees then wakes this puller (wake()).
    this.owner.run(m, backfill ? over : undefined);
  }
}
