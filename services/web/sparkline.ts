/** A small trend line as inline SVG, drawn on the server: no script needed for the repositories list. */
import { html, raw, type SafeHtml } from "./html.js";

export function sparkline(values: number[], opts: { width?: number; height?: number; label: string }): SafeHtml {
  const w = opts.width ?? 300;
  const h = opts.height ?? 36;
  if (values.length < 2) return html`<svg class="spark" width="${w}" height="${h}" role="img" aria-label="${opts.label}"></svg>`;
  const max = Math.max(...values, 1);
  const step = w / (values.length - 1);
  const y = (v: number) => (h - 3 - (v / max) * (h - 6)).toFixed(1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v)}`);
  const area = `M0,${h} L${points.join(" L")} L${w},${h} Z`;
  return html`<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" role="img" aria-label="${opts.label}">
    <path class="spark-area" d="${raw(area)}" />
    <polyline class="spark-line" points="${raw(points.join(" "))}" />
  </svg>`;
}
