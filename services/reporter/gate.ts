/**
 * A check run's conclusion under its gate (shared/pipeline/gate.ts): it fails
 * as the gate says, otherwise it succeeds, or is neutral when there is
 * nothing to judge by (`new-errors` without a delta: the first analysed commit).
 */
import type { Gate } from "../../shared/pipeline/gate.js";
import type { Report } from "../../shared/pipeline/report.js";

export type Conclusion = "success" | "failure" | "neutral";

/** The gate a report is judged by: its repository's, else the operator's. */
export function gateOf(report: Pick<Report, "gate">, operator: Gate): { gate: Gate; by: "repository" | "operator" } {
  return report.gate ? { gate: report.gate, by: "repository" } : { gate: operator, by: "operator" };
}

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
