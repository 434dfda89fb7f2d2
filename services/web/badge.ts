/**
 * `GET /badge/<repo>.svg[?branch=<name>]`: the errors at the newest analysed
 * commit of the repository, or of one of its branches (as requests naming it
 * were analysed), as a small SVG badge (green at none, red otherwise, grey
 * when farm has not analysed it). Answers are kept a minute here and may be cached as
 * long by whoever shows them; the repository's name is escaped like any
 * text a repository supplies.
 */
import { createHash } from "node:crypto";
import { ErrorCodes, RemoteError } from "../../shared/fabric/errors.js";
import { html, type SafeHtml } from "./html.js";
import type { HistoryClient } from "./history.js";

const PATH_PREFIX = "/badge/";
const SUFFIX = ".svg";
/** How long an answer is reused (ms) and how long a viewer may cache it (s). */
const FRESH_MS = 60_000;
export const BADGE_MAX_AGE = 60;

export interface Badge {
  status: number;
  svg: string;
  etag: string;
}

/** The repository a badge path names (`/badge/<url-encoded repo>.svg`), or null for another path. */
export function badgeRepo(pathname: string): string | null {
  if (!pathname.startsWith(PATH_PREFIX) || !pathname.endsWith(SUFFIX)) return null;
  try {
    const repo = decodeURIComponent(pathname.slice(PATH_PREFIX.length, -SUFFIX.length));
    return repo === "" ? null : repo;
  } catch {
    return null;
  }
}

export class Badges {
  private readonly cache = new Map<string, { badge: Badge; at: number }>();

  constructor(
    private readonly history: Pick<HistoryClient, "commits">,
    private readonly now: () => number = Date.now,
  ) {}

  /** The badge of `repo`, or of its `branch` (a name isBranchName accepts). */
  async of(repo: string, branch?: string): Promise<Badge> {
    // A NUL can be in neither a url nor a branch name: the two never mix into one key.
    const key = branch === undefined ? repo : `${repo}\0${branch}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < FRESH_MS) return hit.badge;
    const badge = await this.draw(repo, branch);
    // Bounded: an old answer is dropped once the cache holds a thousand badges.
    if (this.cache.size >= 1000) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { badge, at: this.now() });
    return badge;
  }

  private async draw(repo: string, branch: string | undefined): Promise<Badge> {
    let errors: number | null = null;
    try {
      const page = await this.history.commits({ repo, limit: 1, ...(branch !== undefined ? { branch } : {}) });
      errors = page.commits[0]?.summary.errors ?? null;
    } catch (err) {
      // Never analysed (or no such repository): a grey badge, not an error page where an image is expected.
      if (!(err instanceof RemoteError && err.code === ErrorCodes.NotFound)) throw err;
    }
    const value = errors === null ? "unknown" : `${errors} ${errors === 1 ? "error" : "errors"}`;
    const color = errors === null ? "#9f9f9f" : errors === 0 ? "#3fb950" : "#e5534b";
    const svg = draw("farm", value, color, `${repo}${branch !== undefined ? ` (${branch})` : ""}: ${value}`).toString();
    return { status: errors === null ? 404 : 200, svg, etag: `"${createHash("sha256").update(svg).digest("hex").slice(0, 16)}"` };
  }
}

/** A flat two-part badge; widths from the text's length (Verdana 11px averages about 6.5 px a character). */
function draw(label: string, value: string, color: string, title: string): SafeHtml {
  const lw = Math.round(label.length * 6.5 + 12);
  const vw = Math.round(value.length * 6.5 + 12);
  const w = lw + vw;
  return html`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${title}">
    <title>${title}</title>
    <rect width="${lw}" height="20" fill="#555" />
    <rect x="${lw}" width="${vw}" height="20" fill="${color}" />
    <g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
      <text x="${lw / 2}" y="14">${label}</text>
      <text x="${lw + vw / 2}" y="14">${value}</text>
    </g>
  </svg> `;
}
