/**
 * The git layer of ingest: input validation, one bare mirror per repo, and
 * reading history, trees and blobs from it. No NATS here.
 * The implementation lives in shared/git/; this file is the public surface.
 */
export { InvalidInputError, InvalidKeyError, isInvalidKeyError, UnknownShaError, GitError, LockTimeoutError, FileTooLargeError, redactUrl } from "./errors.js";
export { withoutCredentials, repoIdentity, scrubSecrets, gitCredentials, SECRET_PARAM, type GitCredentials } from "./credentials.js";
export { displayPath, quotePath, pathBytes, isQuotedPath, matchablePath } from "./paths.js";
export {
  validateRepoRef,
  validateRepoUrl,
  validateSha,
  repoKey,
  normalizeRepoUrl,
  DEFAULT_MAX_HISTORY,
  type RepoRef,
  type RepoRefOptions,
  type RepoUrlKind,
} from "./validate.js";
export { findCopies, firstParentTrees, type CommitTree, type PathMove } from "./history.js";
export { Mirrors, DEFAULT_NETWORK_TIMEOUT_MS, type MirrorsOptions, type MirrorStats } from "./mirrors.js";
export {
  hasCommit,
  firstParentHistory,
  listTree,
  readBlobs,
  readBlobMap,
  readFileAt,
  resolveHead,
  DEFAULT_READ_FILE_MAX_BYTES,
  type CommitInfo,
  type TreeEntry,
} from "./objects.js";
