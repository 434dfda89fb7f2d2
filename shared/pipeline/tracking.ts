/**
 * Issue tracking between a commit and its parent: which files to compare
 * (following what git sees as renamed or copied), and within a pair of files
 * which messages are the same issue. docs/tracking.md describes the passes.
 */
import type { CachedMessage, CarriedEntry, Delta, DeltaEntry, FileMessages, FileMove } from "./report.js";
import { fingerprints, ruleName } from "./report.js";

/** A file as tracking compares it: by path, blob and config. */
export interface Versioned {
  path: string;
  blob: string;
  configId?: string;
}

/** Two versions of a file whose issues are compared; `before` null for a new file, `now` null for a removed one. */
export interface FilePair<F> {
  now: F | null;
  before: F | null;
  /** `before` is a copy's source: its issues are not fixed by this pair (its own path accounts for them). */
  copy: boolean;
}

/** Lines an issue may drift from where the matched issues around it predict, and still be the same issue (pass 3). */
const DRIFT_LINES = 5;

function same(a: Versioned, b: Versioned): boolean {
  return a.blob === b.blob && a.configId === b.configId;
}

/**
 * The pairs of files whose issues can differ between `parent` and `current`,
 * and the moves they follow. A path in both is compared with itself; a new
 * path with its source in `moves` (git's renames and copies), or else with a
 * parent file of the same blob (a pure rename or copy needs no git); a
 * removed path that no new one follows has all its issues fixed. A pair with
 * the same blob and config on both sides holds no change and is left out
 * (its move is kept). Unchanged paths are never loaded.
 */
export function pairFiles<F extends Versioned>(
  current: readonly F[],
  parent: readonly F[],
  moves: readonly FileMove[] = [],
): { pairs: FilePair<F>[]; moved: FileMove[] } {
  const parentByPath = new Map(parent.map((f) => [f.path, f]));
  const currentByPath = new Map(current.map((f) => [f.path, f]));
  const sourceOf = new Map(moves.map((m) => [m.to, m.from]));
  // Removed paths by blob, for renames git was not asked about (or a list cut short).
  const removedByBlob = new Map<string, F[]>();
  for (const f of parent)
    if (!currentByPath.has(f.path)) {
      const list = removedByBlob.get(f.blob) ?? [];
      list.push(f);
      removedByBlob.set(f.blob, list);
    }
  const parentByBlob = new Map<string, F>();
  for (const f of parent) if (!parentByBlob.has(f.blob)) parentByBlob.set(f.blob, f);
  const followed = new Set<string>();
  const pairs: FilePair<F>[] = [];
  const moved: FileMove[] = [];
  for (const f of current) {
    const old = parentByPath.get(f.path);
    if (old) {
      if (!same(f, old)) pairs.push({ now: f, before: old, copy: false });
      continue;
    }
    const gitSource = sourceOf.get(f.path);
    const source =
      (gitSource !== undefined ? parentByPath.get(gitSource) : undefined) ??
      removedByBlob.get(f.blob)?.find((p) => !followed.has(p.path)) ??
      parentByBlob.get(f.blob);
    if (!source) {
      pairs.push({ now: f, before: null, copy: false });
      continue;
    }
    const copy = currentByPath.has(source.path) || followed.has(source.path);
    if (!copy) followed.add(source.path);
    moved.push({ from: source.path, to: f.path, ...(copy ? { copy: true as const } : {}) });
    if (!same(f, source)) pairs.push({ now: f, before: source, copy });
  }
  for (const f of parent) if (!currentByPath.has(f.path) && !followed.has(f.path)) pairs.push({ now: null, before: f, copy: false });
  return { pairs, moved };
}

interface Tracked {
  message: CachedMessage;
  entry: DeltaEntry;
}

/** What tracking made of a pair of files: issues new and fixed, and issues kept under another fingerprint or path. */
export interface PairDelta {
  new: DeltaEntry[];
  fixed: DeltaEntry[];
  carried: CarriedEntry[];
}

/**
 * Tracks the issues of one pair of files, in passes; each pass pairs only
 * what the passes before it left:
 * 1. the same fingerprint (rule, statement context, occurrence);
 * 2. the same rule, message and statement context (an issue whose statement
 *    now occurs once more or less before it);
 * 3. the same rule, message and line text (a statement edited on another of
 *    its lines);
 * 4. the same rule and message, nearest to where the issues matched so far
 *    place it, within DRIFT_LINES (an issue whose statement was edited).
 * What is left is new (now) or fixed (before).
 */
export function trackPair(now: FileMessages | null, before: FileMessages | null, copy = false): PairDelta {
  const left = now ? fingerprints(now) : [];
  const right = before ? fingerprints(before) : [];
  const matched: [Tracked, Tracked][] = [];
  const match = (key: (t: Tracked) => string, pick: (a: Tracked, candidates: Tracked[]) => number) => {
    const pool = new Map<string, Tracked[]>();
    for (const r of right) {
      const k = key(r);
      const list = pool.get(k) ?? [];
      list.push(r);
      pool.set(k, list);
    }
    const taken = new Set<Tracked>();
    for (const l of left) {
      const candidates = pool.get(key(l));
      if (!candidates?.length) continue;
      const i = pick(l, candidates);
      if (i < 0) continue;
      const [r] = candidates.splice(i, 1);
      matched.push([l, r]);
      taken.add(l).add(r);
    }
    remove(left, taken);
    remove(right, taken);
  };
  const first = () => 0;
  match((t) => t.entry.fingerprint, first);
  const named = (t: Tracked) => `${t.entry.linter}\0${ruleName(t.entry)}\0${t.message.message}`;
  match((t) => `${named(t)}\0${t.message.context}`, first);
  match((t) => `${named(t)}\0${t.message.lineHash}`, first);
  const shift = lineShift(matched);
  match(named, (l, candidates) => nearest(l, candidates, shift));
  const carried: CarriedEntry[] = [];
  for (const [l, r] of matched)
    if (l.entry.fingerprint !== r.entry.fingerprint)
      carried.push({ path: l.entry.path, fingerprint: l.entry.fingerprint, from: { path: r.entry.path, fingerprint: r.entry.fingerprint } });
  return { new: left.map((t) => t.entry), fixed: copy ? [] : right.map((t) => t.entry), carried };
}

function remove(list: Tracked[], taken: ReadonlySet<Tracked>): void {
  let o = 0;
  for (const t of list) if (!taken.has(t)) list[o++] = t;
  list.length = o;
}

/** Where lines of the old file went: the matched issues' (old line, new line), by old line. */
function lineShift(matched: readonly [Tracked, Tracked][]): (oldLine: number) => number {
  const anchors = matched.map(([l, r]) => [r.entry.line, l.entry.line] as const).sort((a, b) => a[0] - b[0]);
  return (oldLine) => {
    // The last anchor at or above oldLine: the lines between moved with it.
    let lo = 0;
    let hi = anchors.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (anchors[mid][0] <= oldLine) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? oldLine + anchors[lo - 1][1] - anchors[lo - 1][0] : oldLine;
  };
}

/** The candidate (an old issue) nearest where `l` is, once moved as the anchors say; -1 when none is within DRIFT_LINES. */
function nearest(l: Tracked, candidates: readonly Tracked[], shift: (oldLine: number) => number): number {
  let best = -1;
  let bestDistance = Infinity;
  candidates.forEach((c, i) => {
    const d = Math.abs(shift(c.entry.line) - l.entry.line);
    if (d <= DRIFT_LINES && d < bestDistance) [best, bestDistance] = [i, d];
  });
  return best;
}

/** Files whose issues a delta compares, loaded; `copy` as in FilePair. */
export type LoadedPair = FilePair<FileMessages>;

/** New and fixed issues over a commit's pairs of files, in path and line order, with what was carried and moved. */
export function deltaOfPairs(pairs: readonly LoadedPair[], moved: readonly FileMove[]): Delta {
  const out: Delta = { new: [], fixed: [] };
  const carried: CarriedEntry[] = [];
  for (const p of pairs) {
    const d = trackPair(p.now, p.before, p.copy);
    out.new.push(...d.new);
    out.fixed.push(...d.fixed);
    carried.push(...d.carried);
  }
  const byPlace = (a: DeltaEntry, b: DeltaEntry) => a.path.localeCompare(b.path) || a.line - b.line || a.column - b.column;
  out.new.sort(byPlace);
  out.fixed.sort(byPlace);
  if (moved.length > 0) out.moved = [...moved].sort((a, b) => a.to.localeCompare(b.to));
  if (carried.length > 0) out.carried = carried.sort((a, b) => a.path.localeCompare(b.path) || a.fingerprint.localeCompare(b.fingerprint));
  return out;
}

/** New and fixed issues of `current` against `parent` (whole file lists; unchanged files cost nothing). */
export function computeDelta(current: readonly FileMessages[], parent: readonly FileMessages[], moves: readonly FileMove[] = []): Delta {
  const { pairs, moved } = pairFiles(current, parent, moves);
  return deltaOfPairs(pairs, moved);
}
