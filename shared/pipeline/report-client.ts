/**
 * Reading reports as a client. A report too big for one NATS message comes
 * back as a reference to the object store, where the aggregator put it whole;
 * report.get then answers it part by part (no object-store permission needed).
 */
import type { Farm } from "../fabric/farm.js";
import { subjects } from "./names.js";

export interface ReportQuery {
  repo: string;
  sha: string;
  format?: "json" | "sarif";
  /** "summary": the report without its files (ReportSummary). Default: the whole report. */
  view?: "summary";
}

/** What report.get answers instead of the report when it would not fit in a message. */
export interface ReportReference {
  repo: string;
  sha: string;
  /** Object-store bucket and object holding the report's JSON. */
  object: { bucket: string; name: string };
  /** Bytes of the JSON, and how many report.get parts carry it. */
  size: number;
  parts: number;
}

interface ReportPart {
  part: number;
  parts: number;
  /** Base64 of the part's bytes. */
  data: string;
}

export function isReportReference(v: unknown): v is ReportReference {
  return typeof v === "object" && v !== null && typeof (v as ReportReference).object?.name === "string";
}

const utf8 = new TextDecoder();

export async function fetchReport<T = unknown>(farm: Farm, q: ReportQuery, timeout = 60_000): Promise<T> {
  const reply = await farm.jobs.send<T | ReportReference>(subjects.reportGet, q, { timeout });
  if (!isReportReference(reply)) return reply;
  const chunks: Buffer[] = [];
  for (let part = 0; part < reply.parts; part++) {
    const p = await farm.jobs.send<ReportPart>(subjects.reportGet, { ...q, object: reply.object.name, part }, { timeout });
    chunks.push(Buffer.from(p.data, "base64"));
  }
  const data = Buffer.concat(chunks);
  if (data.length !== reply.size) throw new Error(`report ${reply.object.name}: read ${data.length} bytes of ${reply.size}`);
  return JSON.parse(utf8.decode(data)) as T;
}
