/**
 * Reading reports as a client. A report too big for one NATS message comes
 * back as a reference to the object store, where the aggregator put it whole.
 */
import type { Farm } from "./farm.js";
import { Objects } from "./stores.js";
import { subjects } from "./topology.js";

export interface ReportQuery {
  repo: string;
  sha: string;
  format?: "json" | "sarif";
}

/** What report.get answers instead of the report when it would not fit in a message. */
export interface ReportReference {
  repo: string;
  sha: string;
  /** Object-store bucket and object holding the report's JSON. */
  object: { bucket: string; name: string };
}

export function isReportReference(v: unknown): v is ReportReference {
  return typeof v === "object" && v !== null && typeof (v as ReportReference).object?.name === "string";
}

const utf8 = new TextDecoder();

export async function fetchReport<T = unknown>(farm: Farm, q: ReportQuery, timeout = 60_000): Promise<T> {
  const reply = await farm.jobs.send<T | ReportReference>(subjects.reportGet, q, { timeout });
  if (!isReportReference(reply)) return reply;
  const data = await (await Objects.open(farm.nc)).getBytes(reply.object.name);
  if (!data) throw new Error(`report ${reply.object.name} is missing from the object store`);
  return JSON.parse(utf8.decode(data)) as T;
}
