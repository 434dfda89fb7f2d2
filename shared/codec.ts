/**
 * Payload codec: msgpack inside the farm, JSON at the edge. Decoders accept
 * both: the content-type header says which; without it a payload starting
 * with `{` or `[` is JSON.
 */
import { Packr } from "msgpackr";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { DecodeError } from "./errors.js";

export const CONTENT_TYPE = "content-type";
export const MSGPACK = "application/msgpack";
export const JSON_TYPE = "application/json";

// Records are a msgpackr extension other clients cannot read: plain maps only.
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

export type Format = "msgpack" | "json";

export function encode(value: unknown, format: Format = "msgpack"): Uint8Array {
  return format === "json" ? utf8.encode(JSON.stringify(value)) : packr.pack(value);
}

/** Headers that announce the payload's format (merged into `h` when given). */
export function formatHeaders(format: Format = "msgpack", h: MsgHdrs = natsHeaders()): MsgHdrs {
  h.set(CONTENT_TYPE, format === "json" ? JSON_TYPE : MSGPACK);
  return h;
}

export function decode<T = unknown>(data: Uint8Array, hdrs?: MsgHdrs): T {
  if (!data || data.length === 0) throw new DecodeError("empty payload");
  const declared = hdrs?.get(CONTENT_TYPE) ?? "";
  const json = declared ? declared.includes("json") : data[0] === 0x7b || data[0] === 0x5b;
  try {
    return (json ? JSON.parse(fromUtf8.decode(data)) : packr.unpack(data)) as T;
  } catch (err) {
    throw new DecodeError(`payload is not valid ${json ? "JSON" : "msgpack"}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
