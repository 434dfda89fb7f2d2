/** The web app's reads, each one request on a public subject: the web service holds no state of its own. */
import type { Farm } from "../../shared/fabric/farm.js";
import type { HistoryCommitsRequest, HistoryFileRequest, HistoryIssuesRequest } from "../../shared/pipeline/contract.js";
import { fetchReport } from "../../shared/pipeline/report-client.js";
import type { Report } from "../../shared/pipeline/report.js";
import { subjects } from "../../shared/pipeline/names.js";
import { request } from "../../shared/pipeline/request.js";

/** How long a page waits for an answer, and for a server to serve the subject at all: a person is waiting. */
const TIMEOUT_MS = 15_000;
const SEND = { timeout: TIMEOUT_MS, noRespondersWait: 2000 };

export class HistoryClient {
  constructor(private readonly farm: Farm) {}

  repos() {
    return request(this.farm, subjects.historyRepos, {}, SEND);
  }

  commits(req: HistoryCommitsRequest) {
    return request(this.farm, subjects.historyCommits, req, SEND);
  }

  issues(req: HistoryIssuesRequest) {
    return request(this.farm, subjects.historyIssues, req, SEND);
  }

  file(req: HistoryFileRequest) {
    return request(this.farm, subjects.historyFile, req, SEND);
  }

  report(repo: string, sha: string): Promise<Report> {
    return fetchReport<Report>(this.farm, { repo, sha }, TIMEOUT_MS * 4);
  }
}
