/** `/file?repo&sha&path`: a file at a commit, its issues at their lines, each with the commit that introduced it. */
import type { HistoryFileReply, IssueOrigin } from "../../../shared/pipeline/contract.js";
import { qualifiedRule, type LintMessage, type Report } from "../../../shared/pipeline/report.js";
import { html, type SafeHtml } from "../html.js";
import type { HistoryClient } from "../history.js";
import { crumbs, links, page, repoName, short, when } from "../layout.js";

interface Issue extends LintMessage {
  isNew: boolean;
  origin?: IssueOrigin;
}

/** The file's messages, new ones marked, each with where it came from (one history.issues request for all). */
async function issuesOf(history: HistoryClient, repo: string, report: Report, path: string): Promise<Issue[]> {
  const messages = report.files.find((f) => f.path === path)?.messages ?? [];
  const fresh = new Set((report.delta?.new ?? []).filter((e) => e.path === path).map((e) => e.fingerprint));
  const fingerprints = [...new Set(messages.map((m) => m.fingerprint).filter((f): f is string => Boolean(f)))];
  const origins = fingerprints.length
    ? await history
        .issues({ repo, sha: report.sha, fingerprints, path })
        .then((r) => r.issues)
        .catch(() => [])
    : [];
  const byPrint = new Map(origins.map((o) => [o.fingerprint, o]));
  return messages.map((m) => ({ ...m, isNew: fresh.has(m.fingerprint ?? ""), origin: byPrint.get(m.fingerprint ?? "") }));
}

function origin(repo: string, sha: string, i: Issue): SafeHtml {
  const intro = i.origin?.introduced;
  if (i.isNew || intro?.sha === sha) return html`<span class="origin">introduced in this commit</span>`;
  if (!intro) return html`<span class="origin muted">introduced before the analysed history</span>`;
  return html`<span class="origin"
    >introduced in <a class="mono" href="${links.commit(repo, intro.sha)}" title="${when(intro.date)}">${short(intro.sha)}</a> ${intro.subject}</span
  >`;
}

function annotation(repo: string, sha: string, i: Issue): SafeHtml {
  const sev = i.severity === 2 ? "err" : "warn";
  return html`<div class="issue issue-${sev}${i.isNew ? " issue-new" : ""}">
    ${i.isNew ? html`<span class="badge badge-new">new</span>` : ""}<span class="sev sev-${sev}">${i.severity === 2 ? "error" : "warning"}</span>
    <span class="msg">${i.message}</span> <span class="mono muted">${qualifiedRule(i)}</span> <span class="muted small">col ${i.column}</span>
    ${origin(repo, sha, i)}
  </div>`;
}

function source(repo: string, sha: string, file: HistoryFileReply, issues: Issue[]): SafeHtml {
  const lines = file.content.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const at = new Map<number, Issue[]>();
  for (const i of issues) at.set(i.line, [...(at.get(i.line) ?? []), i]);
  // Issues past the end of the shown text (a cut file, a line 0 message) go above the source.
  const outside = issues.filter((i) => i.line < 1 || i.line > lines.length);
  const rows = lines.map((text, n) => {
    const here = at.get(n + 1);
    const cls = here ? `has-issue${here.some((i) => i.severity === 2) ? " has-err" : ""}${here.some((i) => i.isNew) ? " has-new" : ""}` : "";
    return html`<tr id="L${n + 1}" class="${cls}">
      <td class="ln"><a href="#L${n + 1}">${n + 1}</a></td>
      <td class="code">
        <pre>${text || " "}</pre>
        ${here ? html`<div class="issues">${here.map((i) => annotation(repo, sha, i))}</div>` : ""}
      </td>
    </tr>`;
  });
  return html`${outside.length ? html`<div class="issues outside">${outside.map((i) => annotation(repo, sha, i))}</div>` : ""}
    <table class="source">
      <tbody>
        ${rows}
      </tbody>
    </table>`;
}

export async function filePage(history: HistoryClient, repo: string, sha: string, path: string): Promise<string> {
  const [file, report] = await Promise.all([history.file({ repo, sha, path }), history.report(repo, sha)]);
  const issues = await issuesOf(history, repo, report, path);
  const newCount = issues.filter((i) => i.isNew).length;
  const note = file.binary
    ? html`<p class="muted">A binary file: nothing to show.</p>`
    : file.truncated
      ? html`<p class="notice">Only the first ${file.content.length} characters of ${file.size} bytes are shown.</p>`
      : "";
  const body = html`${crumbs(
      [
        ["Repositories", "/"],
        [repoName(repo), links.repo(repo)],
        [short(sha), links.commit(repo, sha)],
      ],
      path,
    )}
    <div class="title-row"><h1 class="mono path">${path}</h1></div>
    <p class="meta">
      at <a class="mono" href="${links.commit(repo, sha)}">${short(sha)}</a> ${report.subject ?? ""} · ${issues.length}
      ${issues.length === 1 ? "issue" : "issues"}${newCount ? html`, <span class="new">${newCount} new</span>` : ""} · ${file.size} bytes
    </p>
    ${note}
    <section class="card flush">${file.binary ? "" : source(repo, sha, file, issues)}</section>`;
  return page({ title: `${path} · ${short(sha)}`, section: "repos", body });
}
