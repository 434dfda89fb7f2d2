/**
 * What the reporter has posted for a commit, kept in the farm-state bucket so
 * that a redelivered event or a restarted reporter carries on where it was
 * and posts nothing twice: a claim before the check run is created (so one
 * handler creates it), its id once created, the annotation pages posted, and
 * that it is done.
 */
import type { KV } from "@nats-io/kv";
import { decode, encode } from "../../shared/fabric/codec.js";
import { isRevisionConflict } from "../../shared/pipeline/stores/repos.js";

export interface CheckState {
  /** "creating": claimed, the check run may or may not exist yet; "open": it exists; "done": completed. */
  phase: "creating" | "open" | "done";
  id?: number;
  /** Annotation pages already posted. */
  pages: number;
}

export class CheckStates {
  constructor(private readonly kv: Pick<KV, "get" | "put" | "create">) {}

  async get(key: string): Promise<CheckState | null> {
    const e = await this.kv.get(key);
    return e && e.operation === "PUT" ? decode<CheckState>(e.value) : null;
  }

  /** Claims the commit's check run: false when another handler has (a state exists). */
  async claim(key: string): Promise<boolean> {
    try {
      await this.kv.create(key, encode({ phase: "creating", pages: 0 } satisfies CheckState));
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }

  async put(key: string, state: CheckState): Promise<void> {
    await this.kv.put(key, encode(state));
  }
}
