/** What the runner counts of its linting: files linted, and each one's time on its thread. */
import { metricsOf } from "../../shared/pipeline/counts.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";

export function countLinted(deps: Pick<ServiceContext, "farm" | "metrics">, linted: readonly { durationMs: number }[]): void {
  const m = metricsOf(deps);
  m.filesLinted.inc(linted.length);
  for (const r of linted) m.lintFileDuration.observe(r.durationMs / 1000);
}
