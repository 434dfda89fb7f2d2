/**
 * Branches as farm keeps them: the branch a request's informational `ref`
 * names, whose newest analysed commit the repository index records (for a
 * branch's badge and history). Never passed to git.
 */

const HEADS = "refs/heads/";
/** Longer than any branch a git host allows (GitHub's refs stop at 255 bytes). */
const MAX_BRANCH = 255;

/**
 * The branch a request's `ref` names: `refs/heads/<name>` or a bare `<name>`;
 * undefined for no ref, another kind of ref (a tag, a pull request's) or a
 * name git would refuse as a branch.
 */
export function branchOf(ref: string | undefined): string | undefined {
  if (ref === undefined) return undefined;
  const name = ref.startsWith(HEADS) ? ref.slice(HEADS.length) : ref.startsWith("refs/") ? "" : ref;
  return isBranchName(name) ? name : undefined;
}

/** A plausible branch name (git check-ref-format's main rules, and not a full ref), safe to show and to hash into a key. */
export function isBranchName(name: string): boolean {
  return (
    name.length > 0 &&
    !name.startsWith("refs/") &&
    name.length <= MAX_BRANCH &&
    !name.startsWith("-") &&
    !name.startsWith("/") &&
    !name.endsWith("/") &&
    !name.endsWith(".lock") &&
    !name.includes("..") &&
    !name.includes("//") &&
    !name.includes("@{") &&
    // eslint-disable-next-line no-control-regex -- control characters are what git refuses
    !/[\x00-\x20\x7f~^:?*[\\]/.test(name)
  );
}
