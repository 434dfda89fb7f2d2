import { describe, expect, it } from "vitest";
import { branchOf, isBranchName } from "../../../shared/pipeline/branches.js";

describe("branchOf: the branch a request's ref names", () => {
  it("reads refs/heads/<name> and a bare name", () => {
    expect(branchOf("refs/heads/main")).toBe("main");
    expect(branchOf("refs/heads/feature/x")).toBe("feature/x");
    expect(branchOf("release-1.2")).toBe("release-1.2");
  });

  it("is undefined for no ref, a tag, a pull request's ref or a name git refuses", () => {
    for (const ref of [undefined, "refs/tags/v1", "refs/pull/7/head", "refs/heads/", "a..b", "x.lock", "-rf", "a b", "a:b", "a@{1}", "HEAD~1"]) {
      expect(branchOf(ref), String(ref)).toBeUndefined();
    }
  });

  it("a full ref is not a branch name (history.commits and the badge take the short name)", () => {
    expect(isBranchName("refs/heads/main")).toBe(false);
    expect(isBranchName("x".repeat(256))).toBe(false);
  });
});
