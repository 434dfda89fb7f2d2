/**
 * Payload codec: msgpack inside the farm, JSON at the edge. Decoders accept
 * both: the content-type header says which; without it a payload starting
 * with `{` or `[` is JSON.
 */
import { C1, Packr } from "msgpackr";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { DecodeError } from "./errors.js";

export const CONTENT_TYPE = "content-type";
export const MSGPACK = "application/msgpack";
export const JSON_TYPE = "application/json";

// Records are a msgpackr extension other clients cannot read: plain maps only.
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
/**
 * msgpackr packs into one buffer (one per process, shared by every Packr)
 * that it grows to 4× the largest value it has packed and keeps for good,
 * and each encoding is a view of it: after an encoding larger than this, the
 * encoding is copied out and the packer given a small buffer again, so one
 * big report does not pin megabytes for the rest of the process.
 */
const LARGE_ENCODING = 256 * 1024;
const PACK_BUFFER = 64 * 1024;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

export type Format = "msgpack" | "json";

export function encode(value: unknown, format: Format = "msgpack"): Uint8Array {
  // JSON.stringify(undefined) is no JSON at all: send null instead of an empty payload.
  if (format === "json") return utf8.encode(JSON.stringify(value ?? null));
  const data = packr.pack(value);
  if (data.length <= LARGE_ENCODING) return data;
  // Unpooled: the packer writes over its buffer, and a pooled one is shared with other Buffers.
  packr.useBuffer(Buffer.allocUnsafeSlow(PACK_BUFFER));
  return Buffer.from(data);
}

/** Headers that announce the payload's format (merged into `h` when given). */
export function formatHeaders(format: Format = "msgpack", h: MsgHdrs = natsHeaders()): MsgHdrs {
  h.set(CONTENT_TYPE, format === "json" ? JSON_TYPE : MSGPACK);
  return h;
}

/** The payload's format: the content-type header if any, else `{`/`[` means JSON. */
export function formatOf(data: Uint8Array, hdrs?: MsgHdrs): Format {
  const declared = hdrs?.get(CONTENT_TYPE) ?? "";
  if (declared) return declared.includes("json") ? "json" : "msgpack";
  return data?.[0] === 0x7b || data?.[0] === 0x5b ? "json" : "msgpack";
}

export function decode<T = unknown>(data: Uint8Array, hdrs?: MsgHdrs): T {
  if (!data || data.length === 0) throw new DecodeError("empty payload");
  const json = formatOf(data, hdrs) === "json";
  let value: unknown;
  try {
    value = json ? JSON.parse(fromUtf8.decode(data)) : packr.unpack(data);
  } catch (err) {
    throw new DecodeError(`payload is not valid ${json ? "JSON" : "msgpack"}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!json && holdsC1(value)) throw new DecodeError("payload is not valid msgpack: reserved byte 0xc1");
  return value as T;
}

// msgpackr decodes the never-used byte 0xc1 to a marker object instead of
// failing, so garbage would pass as data: look for the marker.
function holdsC1(v: unknown): boolean {
  if (v === C1) return true;
  if (v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return false;
  if (Array.isArray(v)) return v.some(holdsC1);
  if (v instanceof Map) return [...v.values()].some(holdsC1);
  return Object.values(v).some(holdsC1);
}
