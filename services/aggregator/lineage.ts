/**
 * An issue followed through a history's deltas, for history.issues: by
 * fingerprint, and by path when the asker names its file. A delta's `carried`
 * says which issue of the parent an issue was (its statement was edited);
 * `moved` which path a file came from. Without a path, a fingerprint is
 * looked for in any file (fingerprints are unique within a file only).
 */
import type { CarriedEntry, Delta } from "../../shared/pipeline/report.js";

export interface Followed {
  /** The fingerprint as asked (the answer's key). */
  readonly asked: string;
  fingerprint: string;
  path: string | null;
}

interface Named {
  path: string;
  fingerprint: string;
}

function isIt(e: Named, it: Followed): boolean {
  return e.fingerprint === it.fingerprint && (it.path === null || e.path === it.path);
}

/** Entries by fingerprint: a delta may be long, and many issues are asked at once. */
function indexed<E extends Named>(entries: readonly E[] | undefined): Map<string, E[]> {
  const by = new Map<string, E[]>();
  for (const e of entries ?? []) {
    const list = by.get(e.fingerprint) ?? [];
    list.push(e);
    by.set(e.fingerprint, list);
  }
  return by;
}

/**
 * From a commit back to its parent across the commit's delta: the issues the
 * delta has as new (introduced here), those it has as fixed (not issues of
 * this line: dropped), and the rest as they were named in the parent.
 */
export function stepBack(items: readonly Followed[], delta: Delta): { introduced: Followed[]; rest: Followed[] } {
  const added = indexed(delta.new);
  const fixed = indexed(delta.fixed);
  const carried = indexed(delta.carried);
  const movedFrom = new Map((delta.moved ?? []).map((m) => [m.to, m.from]));
  const introduced: Followed[] = [];
  const rest: Followed[] = [];
  for (const it of items) {
    if (added.get(it.fingerprint)?.some((e) => isIt(e, it))) introduced.push(it);
    else if (fixed.get(it.fingerprint)?.some((e) => isIt(e, it))) continue;
    else {
      const c = carried.get(it.fingerprint)?.find((e) => isIt(e, it));
      if (c) [it.fingerprint, it.path] = [c.from.fingerprint, it.path === null ? null : c.from.path];
      else if (it.path !== null) it.path = movedFrom.get(it.path) ?? it.path;
      rest.push(it);
    }
  }
  return { introduced, rest };
}

/** From a parent forward across its child's delta: the issues the delta fixed, and the rest as the child names them. */
export function stepForward(items: readonly Followed[], delta: Delta): { fixed: Followed[]; rest: Followed[] } {
  const fixedHere = indexed(delta.fixed);
  const carriedFrom = new Map<string, CarriedEntry[]>();
  for (const c of delta.carried ?? []) {
    const list = carriedFrom.get(c.from.fingerprint) ?? [];
    list.push(c);
    carriedFrom.set(c.from.fingerprint, list);
  }
  const renamed = new Map((delta.moved ?? []).filter((m) => !m.copy).map((m) => [m.from, m.to]));
  const fixed: Followed[] = [];
  const rest: Followed[] = [];
  for (const it of items) {
    if (fixedHere.get(it.fingerprint)?.some((e) => isIt(e, it))) {
      fixed.push(it);
      continue;
    }
    const c = carriedFrom.get(it.fingerprint)?.find((e) => isIt(e.from, it));
    if (c) [it.fingerprint, it.path] = [c.fingerprint, it.path === null ? null : c.path];
    else if (it.path !== null) it.path = renamed.get(it.path) ?? it.path;
    rest.push(it);
  }
  return { fixed, rest };
}
