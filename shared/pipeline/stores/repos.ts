/**
 * The index of analysed repositories (KV `farm-state`): per repository, an
 * overview of its newest analysed commit, what `history.repos` lists; and
 * per branch a request named, the same of the branch.
 */
import { jetstreamManager, JetStreamApiError, JetStreamApiCodes, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../../fabric/codec.js";
import type { RepoOverview } from "../contract.js";
import { buckets, kvKeys } from "../names.js";

/** Tries of a compare-and-set before giving up: each lost race means another instance just wrote. */
const MAX_TRIES = 20;

export class RepoIndex {
  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
  ) {}

  static async open(nc: NatsConnection): Promise<RepoIndex> {
    return new RepoIndex(await new Kvm(nc).open(buckets.state), await jetstreamManager(nc));
  }

  async get(repoKey: string): Promise<RepoOverview | null> {
    const e = await this.kv.get(kvKeys.repo(repoKey));
    return e && e.operation === "PUT" ? decode<RepoOverview>(e.value) : null;
  }

  /** Every analysed repository, the most recently active (newest commit date) first. */
  async list(): Promise<RepoOverview[]> {
    // The stream's subject list, not kv.keys(): no consumer (see docs/ARCHITECTURE.md, "Storage model"), one request per page.
    const stream = `KV_${buckets.state}`;
    const prefix = `$KV.${buckets.state}.`;
    const si = await this.jsm.streams.info(stream, { subjects_filter: `${prefix}${kvKeys.repoPrefix}.>` });
    const keys = Object.keys(si.state.subjects ?? {}).map((s) => s.slice(prefix.length));
    const all = await Promise.all(keys.map(async (k) => this.kv.get(k)));
    const repos = all.filter((e) => e && e.operation === "PUT").map((e) => decode<RepoOverview>(e!.value));
    return repos.sort((a, b) => Date.parse(b.date) - Date.parse(a.date) || a.repo.localeCompare(b.repo));
  }

  /** A branch's newest analysed commit (as requests naming the branch were analysed), or null. */
  async branch(repoKey: string, branch: string): Promise<RepoOverview | null> {
    const e = await this.kv.get(kvKeys.branch(repoKey, branch));
    return e && e.operation === "PUT" ? decode<RepoOverview>(e.value) : null;
  }

  /**
   * Records a newly stored report: it replaces the repository's overview when
   * it is newer (see {@link supersedes}), and the overview of `branch` when the
   * report is the head of a request naming that branch. Returns whether the
   * repository's overview changed.
   */
  async record(next: RepoOverview, parent: string | null, branch?: string): Promise<boolean> {
    if (branch !== undefined) await this.replaceIfNewer(kvKeys.branch(next.repoKey, branch), next, parent);
    return this.replaceIfNewer(kvKeys.repo(next.repoKey), next, parent);
  }

  /** A compare-and-set on the entry's revision, so that two aggregators storing two commits at once lose neither. */
  private async replaceIfNewer(key: string, next: RepoOverview, parent: string | null): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const e = await this.kv.get(key);
      const current = e && e.operation === "PUT" ? decode<RepoOverview>(e.value) : null;
      if (current && !supersedes(next, parent, current)) return false;
      try {
        // A deleted entry has a revision too: update from it, as from a value.
        if (e) await this.kv.update(key, encode(next), e.revision);
        else await this.kv.create(key, encode(next));
        return true;
      } catch (err) {
        if (!isRevisionConflict(err) || attempt >= MAX_TRIES) throw err;
      }
    }
  }
}

/**
 * A commit is the repository's newest when its author date is later, when it
 * is the same commit (a re-run: fresher numbers), or when it has the same date
 * as the current one and is its child (commits made in one second).
 */
export function supersedes(next: RepoOverview, parent: string | null, current: RepoOverview): boolean {
  if (next.sha === current.sha) return true;
  const a = Date.parse(next.date);
  const b = Date.parse(current.date);
  if (Number.isNaN(b)) return true;
  return a > b || (a === b && parent === current.sha);
}

/** Another writer got there first: the entry's revision moved (or it appeared) since we read it. */
/** A KV create or update refused because the key is at another revision than the one named. */
export function isRevisionConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
