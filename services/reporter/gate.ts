/**
 * The quality gate a check run's conclusion follows (FARM_CHECK_GATE):
 * - `new-errors` (default): fails when the commit brings new errors;
 * - `errors`: fails when the commit has any error;
 * - `none`: never fails.
 * Otherwise it succeeds, or is neutral when there is nothing to judge by
 * (`new-errors` without a delta: the first analysed commit).
 */
import type { Report } from "../../shared/pipeline/report.js";
import type { CheckGate } from "../../shared/runtime/config.js";

export type Gate = CheckGate;

export type Conclusion = "success" | "failure" | "neutral";

export function conclusionOf(gate: Gate, report: Pick<Report, "summary" | "delta">): Conclusion {
  if (gate === "errors") return report.summary.errors > 0 ? "failure" : "success";
  if (gate === "none") return "success";
  if (!report.delta) return "neutral";
  return report.delta.new.some((e) => e.severity === 2) ? "failure" : "success";
}

/** What the gate says in words, for the check run's summary. */
export function gateRule(gate: Gate): string {
  return gate === "errors" ? "fails on any error" : gate === "none" ? "never fails" : "fails on new errors";
}
