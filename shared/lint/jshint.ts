/**
 * JSHint in-process. JSHINT is a synchronous global singleton: fine inside one
 * thread, which lints one file at a time.
 */
import { createRequire } from "node:module";
import type { LintError } from "jshint";
import type { JshintOptions, LintMessage } from "./types.js";

type Jshint = (typeof import("jshint"))["JSHINT"];
let jshint: Jshint | undefined;
/** Loaded by the first file JSHint lints: most repositories never turn it on. */
const JSHINT = (): Jshint => (jshint ??= (createRequire(import.meta.url)("jshint") as typeof import("jshint")).JSHINT);

/** JSHint's "Unrecoverable syntax error": it stopped parsing, like an ESLint parse error. */
const FATAL_CODES = new Set(["E041"]);

/** Lints one source with JSHint; never throws (a JSHint crash is a fatal message). */
export function runJshint(source: string, options: JshintOptions): LintMessage[] {
  // The CLI passes "globals" as JSHINT's third argument, not as an option; copy so JSHINT can't mutate ours.
  const { globals, ...rest } = structuredClone(options);
  const run = JSHINT();
  try {
    run(source.replace(/^\uFEFF/, ""), rest, (globals ?? {}) as Record<string, boolean>);
  } catch (err) {
    return [{ linter: "jshint", ruleId: null, severity: 2, line: 1, column: 1, message: `jshint crashed: ${firstLine(err)}`, fatal: true }];
  }
  // JSHint reports undefined variables after the rest; reports read better in source order.
  return (run.errors as (LintError | null)[])
    .filter((e): e is LintError => e !== null)
    .map(toMessage)
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

function toMessage(e: LintError): LintMessage {
  const msg: LintMessage = {
    linter: "jshint",
    ruleId: e.code ?? null,
    // JSHint codes: E… errors, W… warnings, I… info.
    severity: e.code?.startsWith("E") ? 2 : 1,
    line: e.line || 1,
    column: e.character || 1,
    message: e.reason,
  };
  if (e.code && FATAL_CODES.has(e.code)) msg.fatal = true;
  return msg;
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n", 1)[0];
}
