/**
 * Reading reports as a client. A report too big for one NATS message comes
 * back as a reference to the object store, where the aggregator put it whole;
 * report.get then answers it part by part (no object-store permission needed).
 */
import type { Farm } from "../fabric/farm.js";
import type { ReportAnswer, ReportPart, ReportQuery, ReportReference } from "./contract.js";
import { subjects } from "./names.js";
import type { Report } from "./report.js";
import { request } from "./request.js";

export function isReportReference(v: unknown): v is ReportReference {
  return typeof v === "object" && v !== null && typeof (v as ReportReference).object?.name === "string";
}

const utf8 = new TextDecoder();

/**
 * A big answer's JSON as it was read from the object store, not parsed: a
 * caller that writes it out as it is (NDJSON) never holds a big report as objects.
 */
export class ReportJson {
  constructor(readonly bytes: Buffer) {}

  parse<T>(): T {
    return JSON.parse(utf8.decode(this.bytes)) as T;
  }
}

/** The report `q` asks for (T: the shape its `format` and `view` make), whole, however big. */
export async function fetchReport<T extends ReportAnswer = Report>(farm: Pick<Farm, "jobs">, q: ReportQuery, timeout = 60_000): Promise<T> {
  const r = await fetchReportOrJson<T>(farm, q, timeout);
  return r instanceof ReportJson ? r.parse<T>() : r;
}

/** The same, with an answer too big for one message as its JSON, unparsed. */
export async function fetchReportOrJson<T extends ReportAnswer = Report>(farm: Pick<Farm, "jobs">, q: ReportQuery, timeout = 60_000): Promise<T | ReportJson> {
  const reply = await request(farm, subjects.reportGet, q, { timeout });
  if (!isReportReference(reply)) return reply as T;
  const chunks: Buffer[] = [];
  for (let part = 0; part < reply.parts; part++) {
    // A request with `part` is answered with that part.
    const p = (await request(farm, subjects.reportGet, { ...q, object: reply.object.name, part }, { timeout })) as ReportPart;
    chunks.push(Buffer.from(p.data, "base64"));
  }
  const data = Buffer.concat(chunks);
  if (data.length !== reply.size) throw new Error(`report ${reply.object.name}: read ${data.length} bytes of ${reply.size}`);
  return new ReportJson(data);
}
