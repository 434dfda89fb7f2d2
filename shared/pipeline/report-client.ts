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
 * An answer's JSON as it came (a big one as it was read from the object
 * store), not parsed: a caller that writes it out as it is (NDJSON) never
 * holds a report as objects.
 */
export class ReportJson {
  constructor(readonly bytes: Uint8Array) {}

  parse<T>(): T {
    return JSON.parse(utf8.decode(this.bytes)) as T;
  }
}

/** The report `q` asks for (T: the shape its `format` and `view` make), whole, however big. */
export async function fetchReport<T extends ReportAnswer = Report>(farm: Pick<Farm, "jobs">, q: ReportQuery, timeout = 60_000): Promise<T> {
  const r = await fetchReportOrJson<T>(farm, q, timeout);
  return r instanceof ReportJson ? r.parse<T>() : r;
}

/**
 * The same as JSON, never parsed: asked in JSON, an answer is its JSON as it
 * came, and one too big for a message is its JSON read from the object store.
 * A caller that writes answers out as they are (NDJSON) never holds one as objects.
 */
export async function fetchReportJson(farm: Pick<Farm, "jobs">, q: ReportQuery, timeout = 60_000): Promise<ReportJson> {
  const json = await farm.jobs.sendForJson(subjects.reportGet, q, { timeout });
  // Only a small answer can be a reference: a report is never parsed to find out.
  const reply: unknown = json.length <= REFERENCE_BYTES ? new ReportJson(json).parse() : undefined;
  // Copied: the answer is a view of the connection's read buffer, and is kept until its turn to be written.
  return isReportReference(reply) ? readParts(farm, q, reply, timeout) : new ReportJson(Buffer.from(json));
}

/** At most the JSON of a reference: a repository URL, a sha, an object's name, two numbers. */
const REFERENCE_BYTES = 4096;

/** The answer decoded; one report.get answered with a reference instead: its JSON, read part by part. */
async function fetchReportOrJson<T extends ReportAnswer>(farm: Pick<Farm, "jobs">, q: ReportQuery, timeout: number): Promise<T | ReportJson> {
  const reply = await request(farm, subjects.reportGet, q, { timeout });
  return isReportReference(reply) ? readParts(farm, q, reply, timeout) : (reply as T);
}

/** A big answer's JSON, read part by part. */
async function readParts(farm: Pick<Farm, "jobs">, q: ReportQuery, reply: ReportReference, timeout: number): Promise<ReportJson> {
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
