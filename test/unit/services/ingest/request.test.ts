/** What ingest reads of a `repo.new_sha` payload: the request, its echo for a `.failed` event, and the dead-letter copy without credentials. */
import { describe, expect, it } from "vitest";
import { decode, encode } from "../../../../shared/fabric/codec.js";
import { DecodeError, ErrorCodes, isPermanent, PermanentError } from "../../../../shared/fabric/errors.js";
import { InvalidInputError } from "../../../../shared/git/index.js";
import { redactNewShaPayload } from "../../../../services/ingest/failures.js";
import { MAX_REQUEST_BYTES, parseRequest, requestEcho } from "../../../../services/ingest/request.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const URL = "https://github.com/acme/widgets.git";
const SECRET_URL = "https://user:s3cret@github.com/acme/widgets.git";
const json = (v: unknown) => encode(v, "json");

/** What `fn` throws (fails the test when it throws nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

describe("parseRequest", () => {
  it("reads a JSON or msgpack payload into a validated request, the clone url apart from the repo's identity", () => {
    for (const raw of [json({ repo: SECRET_URL, sha: SHA }), encode({ repo: SECRET_URL, sha: SHA })]) {
      const req = parseRequest(raw, undefined, {});
      expect(req).toMatchObject({ repo: URL, sha: SHA, history: 0 });
      expect(req.cloneUrl).toBe(SECRET_URL);
      expect(JSON.stringify(req)).not.toContain("s3cret");
    }
  });

  it("reads the lane and tenant a request asks for, keeping the clone url", () => {
    const req = parseRequest(json({ repo: SECRET_URL, sha: SHA, lane: "backfill", tenant: "team-a" }), undefined, {});
    expect(req).toMatchObject({ lane: "backfill", tenant: "team-a", repo: URL });
    expect(req.cloneUrl).toBe(SECRET_URL);
    expect(parseRequest(json({ repo: URL, sha: SHA }), undefined, {})).not.toHaveProperty("lane");
  });

  it("refuses an unknown lane or a tenant that is not a short string, for good", () => {
    for (const bad of [{ lane: "urgent" }, { tenant: "" }, { tenant: 7 }, { tenant: "x".repeat(201) }]) {
      const e = thrown(() => parseRequest(json({ repo: URL, sha: SHA, ...bad }), undefined, {}));
      expect(isPermanent(e), JSON.stringify(bad)).toBe(true);
      expect((e as PermanentError).code).toBe(ErrorCodes.InvalidInput);
    }
  });

  it("builds the url of an {owner, repo} payload from the clone url template", () => {
    const req = parseRequest(json({ owner: "acme", repo: "widgets", sha: SHA }), undefined, { cloneUrlTemplate: "https://github.com/{owner}/{repo}.git" });
    expect(req.repo).toBe(URL);
  });

  it("refuses a payload over the size limit before decoding it", () => {
    const raw = new Uint8Array(MAX_REQUEST_BYTES + 1).fill(0x7b);
    const err = thrown(() => parseRequest(raw, undefined, {}));
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).code).toBe(ErrorCodes.TooLarge);
  });

  it.each([
    ["not JSON", new TextEncoder().encode("{nope")],
    ["an array", json([URL, SHA])],
    ["null", json(null)],
  ])("refuses %s as a permanent decode error", (_, raw) => {
    expect(() => parseRequest(raw, undefined, {})).toThrow(DecodeError);
  });

  it("refuses a local path unless local repos are allowed", () => {
    const raw = json({ repo: "/srv/git/widgets", sha: SHA });
    expect(() => parseRequest(raw, undefined, {})).toThrow(InvalidInputError);
    expect(parseRequest(raw, undefined, { allowLocal: true }).repo).toBe("/srv/git/widgets");
  });

  it("refuses an invalid sha permanently", () => {
    const err = thrown(() => parseRequest(json({ repo: URL, sha: "HEAD" }), undefined, {}));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(isPermanent(err)).toBe(true);
  });
});

describe("requestEcho", () => {
  it("echoes the repo and sha strings of a payload that did not validate", () => {
    expect(requestEcho(json({ repo: SECRET_URL, sha: "HEAD" }))).toEqual({ repo: SECRET_URL, sha: "HEAD" });
  });

  it("leaves out what is not a string, and everything of a payload that does not decode", () => {
    expect(requestEcho(json({ repo: 42, sha: SHA }))).toEqual({ repo: undefined, sha: SHA });
    expect(requestEcho(new TextEncoder().encode("{nope"))).toEqual({});
  });
});

describe("redactNewShaPayload", () => {
  it("drops the credentials of the repo url and keeps the rest and the format", () => {
    for (const format of ["json", "msgpack"] as const) {
      const raw = encode({ repo: SECRET_URL, sha: SHA, history: 3 }, format);
      const copy = redactNewShaPayload(raw);
      expect(decode(copy)).toEqual({ repo: URL, sha: SHA, history: 3 });
      expect(copy[0] === 0x7b).toBe(format === "json");
    }
  });

  it("returns a payload without credentials as it is", () => {
    const raw = json({ repo: URL, sha: SHA });
    expect(redactNewShaPayload(raw)).toBe(raw);
  });

  it("redacts a payload that does not decode as text", () => {
    const copy = redactNewShaPayload(new TextEncoder().encode(`{"repo": "${SECRET_URL}", oops`));
    expect(Buffer.from(copy).toString("latin1")).not.toContain("s3cret");
  });
});
