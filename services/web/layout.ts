/** The page shell every page shares: head, header nav, main. Scripts only as files (the CSP allows no inline script). */
import { html, query, type HtmlValue, type SafeHtml } from "./html.js";

export type Section = "repos" | "live" | "ops";

export interface PageOptions {
  title: string;
  section?: Section;
  body: SafeHtml;
  /** Script files under /assets/ (or /vendor/) to load, deferred. */
  scripts?: string[];
  styles?: string[];
  /** Markup for <head> only this page needs (a <noscript> refresh). */
  head?: SafeHtml;
}

const NAV: [Section, string, string][] = [
  ["repos", "/", "Repositories"],
  ["live", "/live", "Live"],
  ["ops", "/ops", "Operations"],
];

export function page(o: PageOptions): string {
  const nav = NAV.map(([s, href, label]) => html`<a href="${href}" ${o.section === s ? html` aria-current="page"` : ""}>${label}</a>`);
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${o.title} · farm</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        ${(o.styles ?? []).map((s) => html`<link rel="stylesheet" href="${s}" />`)}
        <link rel="stylesheet" href="/assets/app.css" />
        ${o.head} ${(o.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/"><span class="logo" aria-hidden="true">▦</span> farm</a>
          <nav>${nav}</nav>
        </header>
        <main>${o.body}</main>
        <footer class="foot">farm · every commit, linted</footer>
      </body>
    </html> `.value;
}

/** A breadcrumb trail: links, then the current page's name. */
export function crumbs(links: [label: HtmlValue, href: string][], current: HtmlValue): SafeHtml {
  return html`<nav class="crumbs" aria-label="breadcrumb">
    ${links.map(([l, h]) => html`<a href="${h}">${l}</a><span class="sep">/</span>`)}<span>${current}</span>
  </nav>`;
}

export const links = {
  repo: (repo: string, from?: string) => `/repo?${query({ repo, from })}`,
  commit: (repo: string, sha: string) => `/commit?${query({ repo, sha })}`,
  file: (repo: string, sha: string, path: string, line?: number) => `/file?${query({ repo, sha, path })}${line ? `#L${line}` : ""}`,
  download: (repo: string, sha: string, kind: "json" | "sarif") => `/commit.${kind}?${query({ repo, sha })}`,
};

export const short = (sha: string) => sha.slice(0, 8);

/** A date as people read it: "2023-11-14 22:13". */
export function when(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 16).replace("T", " ");
}

/** The name of a repository shown in headings: its last path segment, without .git. */
export function repoName(repo: string): string {
  const seg = repo.replace(/\/+$/, "").split(/[/:]/).pop() ?? repo;
  return seg.replace(/\.git$/, "") || repo;
}
