import { describe, expect, it } from "vitest";
import { isPermanent, PermanentError } from "../../../shared/fabric/errors.js";
import { InvalidInputError, normalizeRepoUrl, repoKey, validateRepoRef, validateRepoUrl } from "../../../shared/git/index.js";

const SHA1 = "0123456789abcdef0123456789abcdef01234567";
const SHA256 = "0123456789abcdef".repeat(4);
const TEMPLATE = "https://github.com/{owner}/{repo}.git";

/** The InvalidInputError thrown by fn (fails the test if it throws something else or nothing). */
function rejection(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return e as InvalidInputError;
  }
  throw new Error("expected an InvalidInputError");
}

describe("validateRepoUrl", () => {
  it.each([
    ["https://github.com/acme/widgets.git", "https"],
    ["https://user:token@git.example.com:8443/group/sub/repo", "https"],
    ["https://%E0@git.example.com/bad-percent-user.git", "https"],
    ["ssh://git@github.com/acme/widgets.git", "ssh"],
    ["ssh://git@git.example.com:2222/srv/repo.git", "ssh"],
    ["git@github.com:acme/widgets.git", "scp"],
    ["github.com:acme/widgets", "scp"],
  ])("accepts %s as %s", (url, kind) => {
    expect(validateRepoUrl(url)).toBe(kind);
  });

  it.each([
    ["file:///srv/repos/widgets.git", "file"],
    ["/srv/repos/widgets", "local"],
    ["./widgets", "local"],
    ["../repos/widgets.git", "local"],
    ["repos/widgets", "local"],
  ])("accepts %s as %s only with allowLocal", (url, kind) => {
    expect(validateRepoUrl(url, { allowLocal: true })).toBe(kind);
    expect(rejection(() => validateRepoUrl(url)).message).toMatch(/local repositories are not enabled/);
  });

  it.each([
    ["http://github.com/acme/widgets.git", /http:\/\/, which is unencrypted.*use https:\/\/ or ssh:\/\//],
    ["git://github.com/acme/widgets.git", /git:\/\/, which is unencrypted/],
    ["ftp://example.com/widgets.git", /unsupported scheme "ftp:\/\/"/],
    ["ext::sh -c touch% /tmp/pwned", /transport helper \("ext::"\), which can run commands/],
    ["ext::sh%20-c%20id", /transport helper/],
    ["fd::3", /transport helper \("fd::"\)/],
    ["--upload-pack=touch /tmp/pwned", /starts with "-" and would be read as a git option/],
    ["-oProxyCommand=touch /tmp/pwned", /starts with "-"/],
    ["https://github.com/a/b.git --upload-pack=touch", /contains a git command-line option/],
    ["https://github.com/a/b.git?x=--config=core.sshCommand=id", /contains a git command-line option/],
    ["ssh://-oProxyCommand=touch/repo.git", /invalid host or user name/],
    ["ssh://-x@github.com/a/b.git", /invalid host or user name/],
    ["ssh://%2DoProxyCommand=x@github.com/a/b.git", /invalid host or user name/],
    ["-x@github.com:a/b.git", /starts with "-"/],
    ["git@-oProxyCommand=x:a/b.git", /not a valid user@host/],
    ["git@github.com:-upload-pack.git", /starting with "-"/],
    ["https://github.com/acme/wid gets.git", /whitespace or control characters/],
    ["https://github.com/acme/widgets.git\n", /whitespace or control characters/],
    ["https://github.com/acme/\u0000widgets", /whitespace or control characters/],
    ["https://github.com/", /no repository path/],
    ["", /is empty/],
  ])("rejects %j", (url, message) => {
    // Rejected even where local repos are allowed: none of these is a path.
    const err = rejection(() => validateRepoUrl(url, { allowLocal: true }));
    expect(err.message).toMatch(message);
    expect(err.field).toBe("repo");
  });

  it("rejects non-strings and absurd lengths", () => {
    expect(rejection(() => validateRepoUrl(42)).message).toMatch(/must be a string/);
    expect(rejection(() => validateRepoUrl(`https://x.org/${"a".repeat(5000)}`)).message).toMatch(/longer than/);
  });
});

describe("validateRepoRef", () => {
  it("accepts {repo, sha} with defaults and lowercases the sha", () => {
    expect(validateRepoRef({ repo: "https://github.com/acme/widgets.git", sha: SHA1.toUpperCase() })).toEqual({
      repo: "https://github.com/acme/widgets.git",
      sha: SHA1,
      history: 0,
    });
  });

  it("accepts ref, history and SHA-256 ids, ignores unknown fields", () => {
    const ref = validateRepoRef({ repo: "git@github.com:acme/widgets.git", sha: SHA256, ref: "refs/heads/main", history: 10_000, extra: 1 });
    expect(ref).toEqual({ repo: "git@github.com:acme/widgets.git", sha: SHA256, ref: "refs/heads/main", history: 10_000 });
  });

  it("builds the clone url of {owner, repo, sha} from the template", () => {
    const ref = validateRepoRef({ owner: "acme", repo: "widgets.js", sha: SHA1 }, { cloneUrlTemplate: TEMPLATE });
    expect(ref.repo).toBe("https://github.com/acme/widgets.js.git");
  });

  it.each([
    [{ owner: "-x", repo: "widgets" }, "owner"],
    [{ owner: ".hidden", repo: "widgets" }, "owner"],
    [{ owner: "acme", repo: "../../etc" }, "repo"],
    [{ owner: "acme", repo: "a/b" }, "repo"],
    [{ owner: "acme", repo: "a b" }, "repo"],
    [{ owner: "acme", repo: "" }, "repo"],
    [{ owner: 7, repo: "widgets" }, "owner"],
  ])("rejects owner/repo %j", (fields, field) => {
    const err = rejection(() => validateRepoRef({ ...fields, sha: SHA1 }, { cloneUrlTemplate: TEMPLATE }));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(/plain name of letters, digits/);
  });

  it("rejects {owner, repo} when no template is configured, saying what to send instead", () => {
    const err = rejection(() => validateRepoRef({ owner: "acme", repo: "widgets", sha: SHA1 }));
    expect(err.message).toMatch(/clone url template.*send \{"repo": "<clone url>"\}/);
  });

  it("validates the built url too (a template can be misconfigured)", () => {
    const err = rejection(() => validateRepoRef({ owner: "acme", repo: "w", sha: SHA1 }, { cloneUrlTemplate: "http://h/{owner}/{repo}" }));
    expect(err.message).toMatch(/unencrypted/);
  });

  it.each([["abc123"], [SHA1 + "0"], [SHA1.slice(0, 39) + "g"], ["HEAD"], [""], [123], [undefined]])("rejects sha %j", (sha) => {
    const err = rejection(() => validateRepoRef({ repo: "https://github.com/a/b.git", sha }));
    expect(err.field).toBe("sha");
    expect(err.message).toMatch(/full commit id \(40 hex chars, or 64 for SHA-256 repos\).*git rev-parse/);
  });

  it.each([[-1], [10_001], [1.5], ["3"], [Number.NaN]])("rejects history %j", (history) => {
    const err = rejection(() => validateRepoRef({ repo: "https://github.com/a/b.git", sha: SHA1, history }));
    expect(err.field).toBe("history");
    expect(err.message).toMatch(/integer from 0 to 10000/);
  });

  it("honours maxHistory", () => {
    expect(() => validateRepoRef({ repo: "https://github.com/a/b.git", sha: SHA1, history: 11 }, { maxHistory: 10 })).toThrow(/0 to 10/);
  });

  it.each([["-main"], ["refs/heads/a b"], [""], [5]])("rejects ref %j", (ref) => {
    expect(rejection(() => validateRepoRef({ repo: "https://github.com/a/b.git", sha: SHA1, ref })).field).toBe("ref");
  });

  it.each([[null], ["string"], [[1, 2]], [42]])("rejects payload %j", (payload) => {
    expect(rejection(() => validateRepoRef(payload)).message).toMatch(/must be a JSON object/);
  });

  it("rejects a missing repo and local paths unless allowed", () => {
    expect(rejection(() => validateRepoRef({ sha: SHA1 })).message).toMatch(/"repo" must be a string/);
    expect(rejection(() => validateRepoRef({ repo: "/srv/x", sha: SHA1 })).message).toMatch(/local/);
    expect(validateRepoRef({ repo: "/srv/x", sha: SHA1 }, { allowLocal: true }).repo).toBe("/srv/x");
  });

  it("errors are permanent farm errors", () => {
    const err = rejection(() => validateRepoRef({ repo: "http://x/y", sha: SHA1 }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(isPermanent(err)).toBe(true);
    expect(err.code).toBe("E_INVALID_INPUT");
    expect(err.name).toBe("InvalidInputError");
  });
});

describe("repoKey", () => {
  it("gives every spelling of one repo the same key", () => {
    const keys = new Set(
      ["https://github.com/Acme/Widgets.git", "https://GitHub.com/Acme/Widgets", "https://x-access-token:secret@github.com/Acme/Widgets.git/"].map(repoKey),
    );
    expect(keys.size).toBe(1);
    expect(repoKey("git@github.com:acme/widgets.git")).toBe(repoKey("ssh://git@github.com/acme/widgets"));
    expect(repoKey("/srv/repos/w")).toBe(repoKey("file:///srv/repos/w/"));
  });

  it("keeps different repos apart", () => {
    const urls = [
      "https://github.com/acme/widgets.git",
      "https://github.com/acme/gadgets.git",
      "https://gitlab.com/acme/widgets.git",
      "ssh://git@github.com/acme/widgets.git",
      "/srv/repos/widgets",
      "/srv/repos/widgets.git", // local directories are distinct, suffix or not
    ];
    expect(new Set(urls.map(repoKey)).size).toBe(urls.length);
  });

  it("is a filesystem-safe name with a readable slug", () => {
    for (const url of ["https://github.com/acme/widgets.git", "git@h:../../etc/passwd", "/", "https://h.org/%2e%2e/..%2f/x y"]) {
      const key = repoKey(url);
      expect(key).toMatch(/^[a-z0-9][a-z0-9._-]*-[0-9a-f]{16}$/);
      expect(key.length).toBeLessThanOrEqual(80);
    }
    expect(repoKey("https://github.com/acme/widgets.git")).toMatch(/^acme-widgets-[0-9a-f]{16}$/);
  });

  it("does not keep credentials in the identity", () => {
    expect(normalizeRepoUrl("https://user:secret@github.com/a/b.git")).toBe("https://github.com/a/b");
  });
});
