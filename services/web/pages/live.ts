/** `/live`: analyses in progress. Rendered whole on the server; /assets/live.js keeps it current from `/events`. */
import { html, type SafeHtml } from "../html.js";
import { links, page, repoName, short, when } from "../layout.js";
import type { LiveAnalysis, LiveFeed } from "../live.js";

const STATE_TEXT = { running: "running", done: "done", failed: "failed" } as const;

/** One analysis; live.js builds the same markup for an update (keep the two in step). */
export function analysisCard(a: LiveAnalysis): SafeHtml {
  const pct = Math.round(a.progress * 100);
  const total = a.commits.length || a.completed + a.failed;
  const current =
    a.current && a.state === "running" ? html` · linting <span class="mono">${short(a.current.sha)}</span>: ${a.current.done}/${a.current.total} files` : "";
  return html`<li class="card live-card state-${a.state}" data-repo="${a.repo}">
    <div class="live-head">
      <a class="repo-link" href="${links.repo(a.repo)}">${repoName(a.repo)}</a><span class="pill pill-${a.state}">${STATE_TEXT[a.state]}</span>
    </div>
    <progress max="100" value="${pct}" aria-label="progress of ${repoName(a.repo)}">${pct}%</progress>
    <div class="live-text muted small">
      <span class="pct">${pct}%</span> · ${a.completed}${total ? html` of ${total}` : ""} commits
      done${current}${a.failed ? html` · <span class="err">${a.failed} failed</span>` : ""} · ${when(a.updatedAt)}
    </div>
    ${a.reason ? html`<div class="reason err small">${a.reason}</div>` : ""}
  </li>`;
}

export function livePage(feed: LiveFeed): string {
  const list = feed.list();
  const body = html`<h1>Live</h1>
    <p class="muted">Analyses in progress, as the services announce them. This page updates by itself.</p>
    <ul id="live" class="cards live">
      ${list.map(analysisCard)}
    </ul>
    <div id="live-empty" class="card empty" ${list.length ? html` hidden` : ""}>
      <p>No analysis running.</p>
      <p class="muted">Start one with <code>farm analyze &lt;repo&gt;</code> or <code>farm publish</code>; it appears here at once.</p>
    </div>`;
  // Without JavaScript the page refreshes itself instead.
  return page({
    title: "Live",
    section: "live",
    body,
    scripts: ["/assets/live.js"],
    head: html`<noscript><meta http-equiv="refresh" content="5" /></noscript>`,
  });
}
