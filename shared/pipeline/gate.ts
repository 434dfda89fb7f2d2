/**
 * The quality gate a commit's check run (or commit status) follows: the
 * operator's FARM_CHECK_GATE, or the `gate` the commit's own `.farm.json`
 * sets, which wins. Read here, apart from the lint settings: a gate changes
 * no lint result, so it is no part of any config id, and a wrong one is a
 * note rather than a failed commit.
 */
import { FARM_JSON } from "../lint/file-names.js";
import { isPlainObject, parseRepoJson } from "../lint/jsonc.js";

/**
 * - `new-errors`: fails when the commit brings new errors (neutral without a delta);
 * - `errors`: fails when the commit has any error;
 * - `none`: never fails.
 */
export const GATES = ["new-errors", "errors", "none"] as const;
export type Gate = (typeof GATES)[number];

/** What a commit's `.farm.json` says of the gate: the gate, or a note saying why it was not taken. */
export interface RepoGate {
  gate?: Gate;
  note?: string;
}

/** The `gate` of a `.farm.json` text (undefined: the commit has none). */
export function repoGate(text: string | undefined): RepoGate {
  if (text === undefined) return {};
  let raw: unknown;
  try {
    raw = parseRepoJson(text, FARM_JSON);
  } catch {
    // Read as data, an unreadable .farm.json fails the commit and says why; with the commit's own toolchain it is only this.
    return { note: `${FARM_JSON} is not valid JSON: its "gate" was not read` };
  }
  if (!isPlainObject(raw) || raw.gate === undefined) return {};
  if ((GATES as readonly unknown[]).includes(raw.gate)) return { gate: raw.gate as Gate };
  return {
    note: `${FARM_JSON}: "gate" must be one of ${GATES.map((g) => `"${g}"`).join(", ")} (got ${JSON.stringify(raw.gate).slice(0, 80)}); the operator's gate applies`,
  };
}
