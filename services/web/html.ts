/**
 * HTML by tagged template: every interpolation is escaped unless it is
 * already {@link SafeHtml} (the result of another `html` template, or
 * `raw()` for markup this code wrote itself). Repository strings (file names,
 * messages, source lines, subjects, urls) can only reach a page through here.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

/** An interpolated value: markup already made safe, text, a number, nothing, or a list of those. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return "";
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(render).join("");
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Markup this code wrote itself (an SVG path it computed): never a repository string. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A query string from parameters, each value URI-encoded. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}

/** A column heading of a grid table: its label; `num` right-aligns a column of numbers. */
export type Column = string | { label: string; num: true };

/** The one table shape of the pages: a heading row, then `rows` (each a `<tr>`). */
export function gridTable(kind: string, columns: readonly Column[], rows: HtmlValue): SafeHtml {
  const heads = columns.map((c) => (typeof c === "string" ? html`<th>${c}</th>` : html`<th class="num">${c.label}</th>`));
  return html`<table class="grid${kind ? ` ${kind}` : ""}">
    <thead>
      <tr>
        ${heads}
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

/** A numeric column heading. */
export const num = (label: string): Column => ({ label, num: true });
