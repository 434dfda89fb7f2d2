/** `/repo?repo=…[&from=…]`: a repository's history: the trend chart and a paged commit table. */
import type { HistoryCommit } from "../../../shared/pipeline/contract.js";
import { html, type SafeHtml, gridTable, num } from "../html.js";
import type { HistoryClient } from "../history.js";
import { crumbs, links, page, repoName, short, when } from "../layout.js";

/** Commits the chart covers (the newest), and rows per table page. */
const CHART_COMMITS = 1000;
const PAGE_ROWS = 50;

/** What the chart script reads: oldest first, one array per series (uPlot's data shape). */
function chartData(repo: string, commits: HistoryCommit[]) {
  const old = [...commits].reverse();
  return {
    repo,
    shas: old.map((c) => c.sha),
    dates: old.map((c) => c.date),
    subjects: old.map((c) => c.subject),
    errors: old.map((c) => c.summary.errors),
    warnings: old.map((c) => c.summary.warnings),
    new: old.map((c) => c.new ?? 0),
    fixed: old.map((c) => c.fixed ?? 0),
  };
}

function delta(n: number | null, cls: string, sign: string): SafeHtml {
  return n === null ? html`<span class="muted">–</span>` : n === 0 ? html`<span class="muted">0</span>` : html`<span class="${cls}">${sign}${n}</span>`;
}

function row(repo: string, c: HistoryCommit): SafeHtml {
  return html`<tr>
    <td><a class="mono" href="${links.commit(repo, c.sha)}">${short(c.sha)}</a></td>
    <td class="subject"><a href="${links.commit(repo, c.sha)}">${c.subject}</a></td>
    <td class="nowrap muted">${when(c.date)}</td>
    <td class="num">${c.summary.files}</td>
    <td class="num ${c.summary.errors ? "err" : ""}">${c.summary.errors}</td>
    <td class="num ${c.summary.warnings ? "warn" : ""}">${c.summary.warnings}</td>
    <td class="num">${delta(c.new, "new", "+")}</td>
    <td class="num">${delta(c.fixed, "fixed", "−")}</td>
  </tr>`;
}

export async function repoPage(history: HistoryClient, repo: string, from: string | undefined): Promise<string> {
  const [chart, table] = await Promise.all([history.commits({ repo, limit: CHART_COMMITS }), history.commits({ repo, from, limit: PAGE_ROWS })]);
  const latest = chart.commits[0];
  const pager = html`<div class="pager">
    ${from ? html`<a class="btn" href="${links.repo(repo)}">« Newest</a>` : ""}${
      table.next ? html`<a class="btn" href="${links.repo(repo, table.next)}">Older »</a>` : ""
    }
  </div>`;
  const body = html`${crumbs([["Repositories", "/"]], repoName(repo))}
    <h1>${repoName(repo)} <span class="muted mono small">${repo}</span></h1>
    ${
      latest
        ? html`<div class="stats bar">
            <div class="stat err"><span class="num">${latest.summary.errors}</span><span class="lbl">errors</span></div>
            <div class="stat warn"><span class="num">${latest.summary.warnings}</span><span class="lbl">warnings</span></div>
            <div class="stat"><span class="num">${latest.summary.files}</span><span class="lbl">files</span></div>
            <div class="stat"><span class="num">${chart.commits.length}${chart.next ? "+" : ""}</span><span class="lbl">commits analysed</span></div>
          </div>`
        : ""
    }
    <section class="card">
      <h2>Issues per commit</h2>
      <div id="history-chart" class="chart" data-history="${JSON.stringify(chartData(repo, chart.commits))}">
        <noscript><p class="muted">The chart needs JavaScript; the table below has the same numbers.</p></noscript>
      </div>
      <h2>New and fixed per commit</h2>
      <div id="delta-chart" class="chart chart-small"></div>
    </section>
    <section class="card">
      <h2>Commits</h2>
      ${gridTable(
        "commits",
        ["commit", "subject", "date", num("files"), num("errors"), num("warnings"), num("new"), num("fixed")],
        table.commits.map((c) => row(repo, c)),
      )}
      ${pager}
    </section>`;
  return page({
    title: repoName(repo),
    section: "repos",
    body,
    styles: ["/vendor/uPlot.min.css"],
    scripts: ["/vendor/uPlot.iife.min.js", "/assets/history.js"],
  });
}
