/**
 * The static files, a fixed list read once at start (no path from a request
 * ever reaches the file system): the app's CSS and scripts from ./assets, and
 * uPlot from node_modules, served from here, never from a CDN.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
};

const own = (name: string) => fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
const vendor = (name: string) => createRequire(import.meta.url).resolve(`uplot/dist/${name}`);

const FILES: Record<string, string> = {
  "/assets/app.css": own("app.css"),
  "/assets/history.js": own("history.js"),
  "/assets/live.js": own("live.js"),
  "/assets/favicon.svg": own("favicon.svg"),
  // Browsers ask for it whatever the page says.
  "/favicon.ico": own("favicon.svg"),
  "/vendor/uPlot.iife.min.js": vendor("uPlot.iife.min.js"),
  "/vendor/uPlot.min.css": vendor("uPlot.min.css"),
};

export function loadAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [url, file] of Object.entries(FILES)) out.set(url, { type: TYPES[file.split(".").pop()!], body: readFileSync(file) });
  return out;
}
