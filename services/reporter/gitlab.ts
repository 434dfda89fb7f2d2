/**
 * GitLab's commit statuses (`POST /projects/:id/statuses/:sha`): the one
 * endpoint the reporter needs, sent with a token (`PRIVATE-TOKEN`). There is
 * no GitLab counterpart of Octokit among the libraries farm uses; one JSON
 * POST does not need one.
 */
import { ErrorCodes, FarmError } from "../../shared/fabric/errors.js";
import type { HostRepo } from "./hosts.js";
import { hostFailure } from "./host-errors.js";

/** A commit status as GitLab documents it. */
export interface CommitStatus {
  state: "pending" | "running" | "success" | "failed" | "canceled";
  name: string;
  target_url?: string;
  description?: string;
  ref?: string;
}

export interface GitLabOptions {
  /** The REST API's base url, e.g. https://gitlab.com/api/v4. */
  apiUrl: string;
  token: string;
  fetch?: typeof globalThis.fetch;
}

/** GitLab caps a status description at 255 characters. */
const MAX_DESCRIPTION = 255;

export class GitLab {
  constructor(private readonly opts: GitLabOptions) {}

  async setStatus(project: HostRepo, sha: string, status: CommitStatus): Promise<void> {
    const id = encodeURIComponent(`${project.owner}/${project.repo}`);
    const url = `${this.opts.apiUrl.replace(/\/+$/, "")}/projects/${id}/statuses/${sha}`;
    const body = { ...status, ...(status.description ? { description: status.description.slice(0, MAX_DESCRIPTION) } : {}) };
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(url, {
        method: "POST",
        headers: { "content-type": "application/json", "private-token": this.opts.token, "user-agent": "farm-reporter" },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new FarmError(`GitLab could not be reached: ${(err as Error).message}`, ErrorCodes.Farm, { cause: err });
    }
    if (res.ok) return void (await res.body?.cancel());
    const text = (await res.text().catch(() => "")).slice(0, 300);
    const what = `GitLab answered ${res.status} to POST ${new URL(url).pathname}`;
    throw hostFailure({ what, status: res.status, header: (n) => res.headers.get(n) ?? undefined, message: text || res.statusText }, undefined);
  }
}
