/**
 * The commit page's "Toolchain" card: the repository's own ESLint and packages
 * the commit was linted with, or that its config was read as data. Every
 * string here but the labels comes from the repository: only through `html`.
 */
import type { Report } from "../../../shared/pipeline/report.js";
import { html, type SafeHtml } from "../html.js";

const FORMATS: Record<string, string> = { flat: "flat config", eslintrc: "eslintrc" };

export function toolchainSection(r: Pick<Report, "toolchain" | "linters">): SafeHtml {
  const t = r.toolchain;
  if (!t) {
    const bundled = r.linters.eslint ? html` ${r.linters.eslint}` : "";
    return html`<section class="card toolchain">
      <h2>Toolchain</h2>
      <p class="muted">None of its own: the config was read as data by farm's bundled ESLint${bundled}.</p>
    </section>`;
  }
  const packages = Object.entries(t.packages).filter(([name]) => name !== "eslint");
  const config = t.configFile ? html`, config <code>${t.configFile}</code>` : "";
  const format = t.format ? html` (${FORMATS[t.format] ?? t.format})` : "";
  return html`<section class="card toolchain">
    <h2>Toolchain</h2>
    <p>Linted with the repository's own ESLint <span class="mono">${t.eslint}</span>${config}${format}.</p>
    ${
      packages.length
        ? html`<ul class="packages">
            ${packages.map(([name, version]) => html`<li><span class="mono">${name}</span> <span class="mono muted">${version}</span></li>`)}
          </ul>`
        : ""
    }
    <p class="muted small">id <span class="mono">${t.id}</span>: commits with the same id ran the same packages.</p>
  </section>`;
}
