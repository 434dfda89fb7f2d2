import { describe, expect, test } from "vitest";
import { headers } from "@nats-io/transport-node";
import { CONTENT_TYPE, DecodeError, decode, encode, formatHeaders, formatOf, JSON_TYPE, MSGPACK } from "../../../shared/fabric/index.js";

const value = { repo: "r", sha: "a".repeat(40), files: [{ path: "x.js", size: 3 }], n: null };
const utf8 = (s: string) => new TextEncoder().encode(s);

describe("codec", () => {
  test("msgpack round trip; the bytes are not JSON", () => {
    const bytes = encode(value);
    expect(bytes[0]).not.toBe(0x7b);
    expect(decode(bytes)).toEqual(value);
    expect(decode(bytes, formatHeaders("msgpack"))).toEqual(value);
  });

  test("JSON round trip, with and without a content-type header", () => {
    const bytes = encode(value, "json");
    expect(new TextDecoder().decode(bytes)).toBe(JSON.stringify(value));
    expect(decode(bytes)).toEqual(value);
    expect(decode(bytes, formatHeaders("json"))).toEqual(value);
    expect(decode(utf8("[1,2]"))).toEqual([1, 2]);
  });

  test("the content-type header wins over sniffing", () => {
    // msgpack 123 is the single byte `{`: only the header tells it apart from JSON.
    const h = headers();
    h.set(CONTENT_TYPE, MSGPACK);
    expect(decode(encode(123), h)).toBe(123);
    const j = headers();
    j.set(CONTENT_TYPE, `${JSON_TYPE}; charset=utf-8`);
    expect(decode(utf8('"text"'), j)).toBe("text");
    expect(formatOf(utf8('"text"'), j)).toBe("json");
  });

  test("formatOf sniffs `{` and `[` as JSON and everything else as msgpack", () => {
    expect(formatOf(utf8('{"a":1}'))).toBe("json");
    expect(formatOf(utf8("[]"))).toBe("json");
    expect(formatOf(encode({ a: 1 }))).toBe("msgpack");
    expect(formatOf(encode("x"), formatHeaders("msgpack"))).toBe("msgpack");
  });

  test.each([
    ["empty", new Uint8Array()],
    ["truncated JSON", utf8('{"a":')],
    ["JSON-looking text", utf8("{not json}")],
    ["invalid UTF-8 in JSON", Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])],
    ["truncated msgpack", Uint8Array.from([0x93, 0x01])],
    ["trailing bytes", Uint8Array.from([0x01, 0x02, 0x03])],
    ["the never-used msgpack byte 0xc1", Uint8Array.from([0xc1])],
    ["0xc1 inside a msgpack array", Uint8Array.from([0x92, 0xc1, 0x01])],
    ["0xc1 inside a msgpack map", Uint8Array.from([0x81, 0xa1, 0x61, 0xc1])],
  ])("garbage (%s) is a DecodeError, permanent, E_DECODE", (_name, bytes) => {
    let caught: unknown;
    try {
      decode(bytes);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DecodeError);
    expect((caught as DecodeError).code).toBe("E_DECODE");
  });

  test("nothing to say is still a decodable payload in both formats", () => {
    expect(decode(encode(undefined, "json"), formatHeaders("json"))).toBeNull();
    expect(decode(encode(null))).toBeNull();
  });

  test("a JSON header on msgpack bytes is a DecodeError, not a silent misread", () => {
    expect(() => decode(encode(value), formatHeaders("json"))).toThrow(DecodeError);
  });

  test("a large encoding owns its bytes, and the encodings after it do not share a buffer grown for it", () => {
    const big = { text: "x".repeat(2 * 1024 * 1024) };
    const bytes = encode(big);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
    expect(decode(bytes)).toEqual(big);
    const small = encode(value);
    expect(small.buffer.byteLength).toBeLessThan(1024 * 1024);
    expect(decode(small)).toEqual(value);
  });
});
