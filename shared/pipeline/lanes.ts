/**
 * Which lane and tenant an analysis' work takes at every stage (the fair
 * queues of shared/fabric/fair.ts). A tenant is what the operator says: a
 * request's `tenant` is honoured only where the operator trusts publishers
 * with it (FARM_TRUST_TENANT, e.g. when only the web app's webhooks and
 * trusted services may publish `repo.new_sha`); otherwise it is the
 * repository's owner, so that splitting work over many requests or
 * repositories of one owner wins no more than one share. A request is
 * interactive when it analyses at most `interactiveMaxCommits` commits; it
 * may ask for backfill, never for interactive beyond that.
 */
import path from "node:path";
import type { Lane } from "../fabric/fair.js";

/** What a request asks for (both optional). */
export interface PlacementRequest {
  lane?: Lane;
  tenant?: string;
}

export interface PlacementPolicy {
  /** Honour a request's `tenant` (FARM_TRUST_TENANT). */
  trustTenants: boolean;
  /** The most commits an interactive request analyses (FARM_INTERACTIVE_MAX_COMMITS). */
  interactiveMaxCommits: number;
}

export interface AnalysisPlacement {
  lane: Lane;
  tenant: string;
}

export function analysisPlacement(want: PlacementRequest, repo: string, commits: number, policy: PlacementPolicy): AnalysisPlacement {
  const small = commits <= policy.interactiveMaxCommits;
  return {
    lane: small && want.lane !== "backfill" ? "interactive" : "backfill",
    tenant: policy.trustTenants && want.tenant ? want.tenant : ownerOf(repo),
  };
}

/**
 * Where a request waits for its clone, before its history is known: placed as
 * if it analysed every commit it may (`history` ancestors and the commit), so a
 * request's lane at ingest is never more urgent than at the stages after it.
 */
export function requestPlacement(want: PlacementRequest & { repo: string; history: number }, policy: PlacementPolicy): AnalysisPlacement {
  return analysisPlacement(want, want.repo, want.history + 1, policy);
}

/** The owner part of a repository's identity: `host/owner` of a url, the parent directory of a local path. */
export function ownerOf(repo: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) {
    try {
      const u = new URL(repo);
      const owner = u.pathname.split("/").filter(Boolean)[0] ?? "";
      return `${u.host}/${owner}`;
    } catch {
      return repo;
    }
  }
  // scp-like git@host:owner/repo.git
  const scp = /^[^@/]+@([^:/]+):([^/]+)\//.exec(repo);
  if (scp) return `${scp[1]}/${scp[2]}`;
  return path.dirname(repo);
}
