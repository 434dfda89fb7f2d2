/**
 * A message's context for tracking it across commits: a hash of the
 * normalised tokens of the statement it points into, not of its physical
 * line. Splitting a statement over lines, adding semicolons or trailing
 * commas, switching quotes, adding parentheses around an arrow's parameter
 * or re-indenting leave the hash as it was; changing a name or a value does
 * not. The tokenizer (js-tokens) never fails, so any text gets contexts: for
 * files that are not JavaScript the "statements" are rougher, not wrong.
 */
import { hash } from "node:crypto";
import jsTokens from "js-tokens";

/** A position as linters report it: 1-based line and column (UTF-16 units, as ESLint counts). */
export interface Position {
  line: number;
  column: number;
}

/** Punctuators that only end a statement or a block: boundaries, never part of a statement's text. */
const BOUNDARY = new Set([";", "{", "}"]);
/** Punctuators a formatter adds or drops freely: left out of the text. */
const DROPPED = new Set([",", "(", ")"]);
/** A line that starts with one of these is not a new statement: the expression goes on (no ASI before them). */
const OPENS_STATEMENT = new Set(["!", "~", "++", "--", "...", "{", "}", ";"]);
/** After one of these the statement cannot have ended. */
const ENDS_EXPRESSION = new Set([")", "]", "}", "++", "--"]);
const SEPARATOR = "\u0001";

interface Statement {
  parts: string[];
}

interface Placed {
  /** Offset of the token's first character. */
  start: number;
  statement: number;
}

/** The context hash of each position's statement in `content` (same order as `positions`). */
export function statementContexts(content: string, positions: readonly Position[]): string[] {
  if (positions.length === 0) return [];
  const { statements, placed } = split(content);
  const hashes = statements.map((s) => contextHash(s.parts.join(SEPARATOR)));
  const lineStarts = lineOffsets(content);
  return positions.map((p) => {
    const offset = (lineStarts[p.line - 1] ?? content.length) + Math.max(0, p.column - 1);
    const at = lastAtOrBefore(placed, offset);
    // Before the first token (an empty file, a message at 1:1 before a comment): the first statement, or none.
    return at < 0 ? (placed.length > 0 ? hashes[placed[0].statement] : contextHash("")) : hashes[placed[at].statement];
  });
}

/** The file's statements, and each significant token's place and statement. */
function split(content: string): { statements: Statement[]; placed: Placed[] } {
  const statements: Statement[] = [{ parts: [] }];
  const placed: Placed[] = [];
  let offset = 0;
  // Open ( and [ since the statement began: a line break inside them never ends it.
  let depth = 0;
  let previous: { type: string; value: string } | null = null;
  let pendingBreak = false;
  const begin = () => {
    if (statements[statements.length - 1].parts.length > 0) statements.push({ parts: [] });
    depth = 0;
  };
  for (const t of jsTokens(content)) {
    const start = offset;
    offset += t.value.length;
    if (t.type === "WhiteSpace" || t.type.endsWith("Comment")) continue;
    if (t.type === "LineTerminatorSequence") {
      pendingBreak = true;
      continue;
    }
    if (pendingBreak && depth <= 0 && previous && endsStatement(previous) && startsStatement(t)) begin();
    pendingBreak = false;
    previous = t;
    if (t.type === "Punctuator" && BOUNDARY.has(t.value)) {
      // The boundary belongs to the statement it ends: a message at an `{` is about what came before it.
      placed.push({ start, statement: statements.length - 1 });
      begin();
      continue;
    }
    placed.push({ start, statement: statements.length - 1 });
    if (t.type === "Punctuator") {
      if (t.value === "(" || t.value === "[") depth++;
      else if (t.value === ")" || t.value === "]") depth--;
      if (DROPPED.has(t.value)) continue;
    }
    statements[statements.length - 1].parts.push(normalized(t));
  }
  return { statements, placed };
}

function endsStatement(t: { type: string; value: string }): boolean {
  return t.type !== "Punctuator" || ENDS_EXPRESSION.has(t.value);
}

function startsStatement(t: { type: string; value: string }): boolean {
  return t.type !== "Punctuator" || OPENS_STATEMENT.has(t.value);
}

/** A token as its statement's text holds it: string literals by their content, whatever their quotes. */
function normalized(t: { type: string; value: string }): string {
  if (t.type === "StringLiteral" || t.type === "NoSubstitutionTemplate") {
    const closed = t.value.length > 1 && t.value[t.value.length - 1] === t.value[0];
    return t.value.slice(1, closed ? -1 : undefined).replace(/\\(["'`])/g, "$1");
  }
  return t.value;
}

function contextHash(text: string): string {
  return hash("sha256", text, "hex").slice(0, 16);
}

/** Offsets where each line starts (a line ends at \n, \r\n or \r, as ESLint counts lines). */
function lineOffsets(content: string): number[] {
  const starts = [0];
  for (const m of content.matchAll(/\r\n|[\r\n\u2028\u2029]/g)) starts.push(m.index + m[0].length);
  return starts;
}

/** Index of the last token starting at or before `offset`; -1 when none does. */
function lastAtOrBefore(placed: readonly Placed[], offset: number): number {
  let lo = 0;
  let hi = placed.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (placed[mid].start <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
