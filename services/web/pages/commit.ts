/** `/commit?repo&sha`: one commit's summary, toolchain, delta, files by issues and rule counts; its JSON and SARIF downloads. */
import { countRules, qualifiedRule, type DeltaEntry, type Report, type ReportFile } from "../../../shared/pipeline/report.js";
import { toSarif } from "../../../shared/pipeline/sarif.js";
import { html, type SafeHtml, gridTable, num } from "../html.js";
import type { HistoryClient } from "../history.js";
import { crumbs, links, page, repoName, short, when } from "../layout.js";
import { toolchainSection } from "./toolchain.js";

/** Files listed before "and N more". */
const FILES_SHOWN = 200;

function severity(s: 1 | 2): SafeHtml {
  return s === 2 ? html`<span class="sev sev-err">error</span>` : html`<span class="sev sev-warn">warning</span>`;
}

/** A new issue links to its line in this commit; a fixed one to its line in the parent, where it still was. */
function deltaRow(repo: string, at: string | null, e: DeltaEntry, kind: "new" | "fixed"): SafeHtml {
  const where = html`${e.path}:${e.line}:${e.column}`;
  return html`<tr class="${kind}">
    <td><span class="badge badge-${kind}">${kind}</span></td>
    <td class="mono">${at ? html`<a href="${links.file(repo, at, e.path, e.line)}">${where}</a>` : where}</td>
    <td>${severity(e.severity)}</td>
    <td>${e.message}</td>
    <td class="mono muted">${qualifiedRule(e)}</td>
  </tr>`;
}

function deltaSection(repo: string, r: Report): SafeHtml {
  if (!r.delta) return html`<p class="muted">No delta: this commit has no analysed parent to compare with.</p>`;
  const { new: added, fixed } = r.delta;
  if (added.length + fixed.length === 0) return html`<p class="muted">No new and no fixed issues against the parent.</p>`;
  return gridTable(
    "delta",
    ["", "where", "severity", "message", "rule"],
    [added.map((e) => deltaRow(repo, r.sha, e, "new")), fixed.map((e) => deltaRow(repo, r.parent, e, "fixed"))],
  );
}

function filesSection(repo: string, r: Report): SafeHtml {
  const withIssues = r.files.filter((f) => f.messages.length > 0).sort((a, b) => b.messages.length - a.messages.length || a.path.localeCompare(b.path));
  if (withIssues.length === 0) return html`<p class="muted">No file has an issue.</p>`;
  const count = (f: ReportFile, s: 1 | 2) => f.messages.filter((m) => m.severity === s).length;
  const rows = withIssues.slice(0, FILES_SHOWN).map(
    (f) =>
      html`<tr>
        <td class="mono"><a href="${links.file(repo, r.sha, f.path)}">${f.path}</a></td>
        <td class="num ${count(f, 2) ? "err" : ""}">${count(f, 2)}</td>
        <td class="num ${count(f, 1) ? "warn" : ""}">${count(f, 1)}</td>
      </tr>`,
  );
  const more = withIssues.length > FILES_SHOWN ? html`<p class="muted">and ${withIssues.length - FILES_SHOWN} more files with issues</p>` : "";
  return html`${gridTable("files", ["file", num("errors"), num("warnings")], rows)} ${more}
    <p class="muted small">${r.files.length - withIssues.length} of ${r.files.length} files have no issue.</p>`;
}

function rulesSection(r: Report): SafeHtml {
  const rules = Object.entries(countRules(r.files)).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (rules.length === 0) return html`<p class="muted">No rule fired.</p>`;
  const max = rules[0][1];
  return gridTable(
    "rules",
    ["rule", num("issues"), ""],
    rules.map(
      ([rule, n]) =>
        html`<tr>
          <td class="mono">${rule}</td>
          <td class="num">${n}</td>
          <td class="meter-cell"><meter min="0" max="${max}" value="${n}"></meter></td>
        </tr>`,
    ),
  );
}

export async function commitPage(history: HistoryClient, repo: string, sha: string): Promise<string> {
  const r = await history.report(repo, sha);
  const parent = r.parent
    ? html`<a class="mono" href="${links.commit(repo, r.parent)}">${short(r.parent)}</a>`
    : html`<span class="muted">none (first commit)</span>`;
  const body = html`${crumbs(
      [
        ["Repositories", "/"],
        [repoName(repo), links.repo(repo)],
      ],
      short(sha),
    )}
    <div class="title-row">
      <h1>${r.subject ?? short(sha)}</h1>
      <div class="actions">
        <a class="btn" href="${links.download(repo, sha, "json")}" download>JSON</a
        ><a class="btn" href="${links.download(repo, sha, "sarif")}" download>SARIF</a>
      </div>
    </div>
    <p class="meta"><span class="mono">${sha}</span> · ${when(r.date)} · parent ${parent}</p>
    <div class="stats bar">
      <div class="stat err"><span class="num">${r.summary.errors}</span><span class="lbl">errors</span></div>
      <div class="stat warn"><span class="num">${r.summary.warnings}</span><span class="lbl">warnings</span></div>
      <div class="stat"><span class="num">${r.summary.files}</span><span class="lbl">files</span></div>
      <div class="stat ${r.delta?.new.length ? "new" : ""}"><span class="num">${r.delta ? r.delta.new.length : "–"}</span><span class="lbl">new</span></div>
      <div class="stat ${r.delta?.fixed.length ? "fixed" : ""}">
        <span class="num">${r.delta ? r.delta.fixed.length : "–"}</span><span class="lbl">fixed</span>
      </div>
    </div>
    ${
      (r.notes ?? []).length
        ? html`<div class="card notes">
            <h2>Notes</h2>
            <ul>
              ${(r.notes ?? []).map((n) => html`<li>${n}</li>`)}
            </ul>
          </div>`
        : ""
    }
    <section class="card">
      <h2>New and fixed against the parent</h2>
      ${deltaSection(repo, r)}
    </section>
    <div class="two-col">
      <section class="card">
        <h2>Files by issues</h2>
        ${filesSection(repo, r)}
      </section>
      <section class="card">
        <h2>Rules</h2>
        ${rulesSection(r)}
      </section>
    </div>
    ${toolchainSection(r)}`;
  return page({ title: `${short(sha)} · ${repoName(repo)}`, section: "repos", body });
}

/** `/commit.json` and `/commit.sarif`: the report as `farm report` gives it. */
export async function commitDownload(history: HistoryClient, repo: string, sha: string, kind: "json" | "sarif"): Promise<string> {
  const r = await history.report(repo, sha);
  return JSON.stringify(kind === "sarif" ? toSarif(r) : r, null, 2);
}
