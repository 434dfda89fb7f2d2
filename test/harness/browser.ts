/**
 * A real browser for tests: Debian's chromium (/usr/bin/chromium, installed by
 * .ci/run) driven by playwright-core, with the flags a machine without a
 * display or open network needs (without the background-networking ones
 * Chromium's own connections are refused by a closed network and it stalls). Each page
 * records what a person would not want to see: console errors, uncaught
 * exceptions, dialogs (an XSS test asserts none fired) and requests that leave
 * the machine (the pages make no third-party requests).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export type { Page };

export const CHROMIUM = process.env.FARM_TEST_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../test-artifacts/screenshots");

/**
 * Headless, no sandbox (tests may run as root), no GPU, and none of Chromium's own
 * connections (QUIC, component updates, sync, background networking), which a
 * closed network refuses. `--user-data-dir` is not among them: playwright refuses it
 * in `launch()` and instead passes a fresh one of its own in the temp dir on
 * every launch (removed on close), so each run starts from an empty profile.
 */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface TestBrowser {
  /** A new page in its own context (no cookies shared with other pages), watched as described above. */
  page(): Promise<Page>;
  /** A full-page PNG at test-artifacts/screenshots/<name>.png; returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
  /** Every dialog any page opened (`<type>: <message>`); each is dismissed so the page goes on. */
  readonly dialogs: string[];
  /** Console errors and uncaught page errors of every page, with the page's url. */
  readonly errors: string[];
  /** Requests any page made to a host other than this machine's loopback. */
  readonly offsite: string[];
}

export async function launchBrowser(): Promise<TestBrowser> {
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  } catch (err) {
    throw new Error(`could not start ${CHROMIUM} (install it: apt-get install -y chromium; .ci/run does): ${(err as Error).message}`, { cause: err });
  }
  const contexts: BrowserContext[] = [];
  const dialogs: string[] = [];
  const errors: string[] = [];
  const offsite: string[] = [];

  return {
    dialogs,
    errors,
    offsite,
    async page() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      contexts.push(context);
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`console error on ${page.url()}: ${m.text()}`);
      });
      page.on("pageerror", (err) => errors.push(`uncaught on ${page.url()}: ${err.message}`));
      page.on("dialog", (d) => {
        // Loud: a dialog in farm's pages means script ran that should not have (an alert() from a file name).
        dialogs.push(`${d.type()}: ${d.message()}`);
        process.stderr.write(`browser dialog on ${page.url()}: ${d.type()}: ${d.message()}\n`);
        d.dismiss().catch(() => {});
      });
      page.on("request", (r) => {
        const url = new URL(r.url());
        if (/^(https?|wss?):$/.test(url.protocol) && !isLoopback(url.hostname)) offsite.push(r.url());
      });
      return page;
    },
    async screenshot(page, name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, "-")}.png`);
      await page.screenshot({ path: file, fullPage: true, type: "png" });
      return file;
    },
    async close() {
      await Promise.allSettled(contexts.map((c) => c.close()));
      await browser.close();
    },
  };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
