import { describe, expect, it } from "vitest";
import { analysisPlacement, ownerOf, requestPlacement } from "../../../shared/pipeline/lanes.js";

const policy = { trustTenants: false, interactiveMaxCommits: 20 };

describe("analysisPlacement", () => {
  it("makes a few commits interactive and a long history backfill, whatever the request asks", () => {
    expect(analysisPlacement({}, "https://github.com/a/b.git", 1, policy).lane).toBe("interactive");
    expect(analysisPlacement({}, "https://github.com/a/b.git", 21, policy).lane).toBe("backfill");
    expect(analysisPlacement({ lane: "interactive" }, "https://github.com/a/b.git", 1500, policy).lane).toBe("backfill");
    expect(analysisPlacement({ lane: "backfill" }, "https://github.com/a/b.git", 1, policy).lane).toBe("backfill");
  });

  it("takes the tenant from the repository's owner unless the operator trusts requests with it", () => {
    expect(analysisPlacement({ tenant: "me" }, "https://github.com/expressjs/express.git", 1, policy).tenant).toBe("github.com/expressjs");
    expect(analysisPlacement({ tenant: "me" }, "https://github.com/expressjs/express.git", 1, { ...policy, trustTenants: true }).tenant).toBe("me");
    expect(analysisPlacement({}, "https://github.com/expressjs/express.git", 1, { ...policy, trustTenants: true }).tenant).toBe("github.com/expressjs");
  });
});

describe("requestPlacement", () => {
  it("places a request before its clone by the most commits it may analyse: its history and the commit", () => {
    const repo = "https://github.com/a/b.git";
    expect(requestPlacement({ repo, history: 19 }, policy)).toEqual({ lane: "interactive", tenant: "github.com/a" });
    expect(requestPlacement({ repo, history: 20 }, policy).lane).toBe("backfill");
    expect(requestPlacement({ repo, history: 0, lane: "backfill" }, policy).lane).toBe("backfill");
    expect(requestPlacement({ repo, history: 0, tenant: "t" }, { ...policy, trustTenants: true }).tenant).toBe("t");
  });
});

describe("ownerOf", () => {
  it("is host and owner for urls, the same for every repository of the owner", () => {
    expect(ownerOf("https://github.com/expressjs/express.git")).toBe("github.com/expressjs");
    expect(ownerOf("https://github.com/expressjs/body-parser")).toBe("github.com/expressjs");
    expect(ownerOf("ssh://git@gitlab.example.com:2222/team/app.git")).toBe("gitlab.example.com:2222/team");
    expect(ownerOf("git@github.com:mochajs/mocha.git")).toBe("github.com/mochajs");
  });

  it("is the parent directory of a local path", () => {
    expect(ownerOf("/srv/repos/team-a/app")).toBe("/srv/repos/team-a");
  });
});
