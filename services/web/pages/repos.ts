/** `/`: every repository farm has analysed, its latest errors and warnings, and a trend line. */
import type { RepoOverview } from "../../../shared/pipeline/contract.js";
import { html, type SafeHtml } from "../html.js";
import { links, page, repoName, short, when } from "../layout.js";
import type { HistoryClient } from "../history.js";
import { sparkline } from "../sparkline.js";

/** Commits the trend line covers. */
const TREND = 30;

async function trendOf(history: HistoryClient, repo: string): Promise<number[]> {
  const { commits } = await history.commits({ repo, limit: TREND });
  return commits.map((c) => c.summary.errors + c.summary.warnings).reverse();
}

function card(r: RepoOverview, trend: number[]): SafeHtml {
  return html`<li class="card repo-card">
    <div class="repo-head"><a class="repo-link" href="${links.repo(r.repo)}">${repoName(r.repo)}</a><span class="muted mono small">${r.repo}</span></div>
    <div class="repo-body">
      <div class="stats">
        <div class="stat err"><span class="num">${r.summary.errors}</span><span class="lbl">errors</span></div>
        <div class="stat warn"><span class="num">${r.summary.warnings}</span><span class="lbl">warnings</span></div>
        <div class="stat"><span class="num">${r.summary.files}</span><span class="lbl">files</span></div>
      </div>
      ${sparkline(trend, { label: `issues over the last ${trend.length} analysed commits` })}
    </div>
    <div class="repo-foot muted small">latest <a class="mono" href="${links.commit(r.repo, r.sha)}">${short(r.sha)}</a> ${r.subject} · ${when(r.date)}</div>
  </li>`;
}

export async function reposPage(history: HistoryClient): Promise<string> {
  const { repos } = await history.repos();
  const trends = await Promise.all(repos.map((r) => trendOf(history, r.repo).catch(() => [])));
  const body = repos.length
    ? html`<ul class="cards">
        ${repos.map((r, i) => card(r, trends[i]))}
      </ul>`
    : html`<div class="card empty">
        <p>No repository analysed yet.</p>
        <p class="muted">
          Run <code>farm analyze &lt;repo&gt; --commits 50</code>, or publish <code>repo.new_sha</code>; it shows up here when its first commit is done.
        </p>
      </div>`;
  return page({
    title: "Repositories",
    section: "repos",
    body: html`<h1>Repositories</h1>
      ${body}`,
  });
}
