/**
 * The browser harness itself, against a tiny page served here: real chromium
 * loads it, a screenshot is a real PNG on disk, and what the web tests rely on
 * being caught (a dialog, a console error, an uncaught error, an offsite request) is.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { launchBrowser, SCREENSHOT_DIR, type TestBrowser } from "../../harness/browser.js";
import { waitFor } from "../../harness/wait.js";

const PAGES: Record<string, string> = {
  "/": `<!doctype html><title>harness</title><h1 id="h">Hello from the harness</h1>
    <button id="b" onclick="alert('clicked ' + document.title)">alert</button>
    <script>console.error("a console error"); setTimeout(() => { throw new Error("an uncaught error"); });</script>`,
  // TEST-NET-1 (RFC 5737): never routed, so the request is seen but goes nowhere.
  "/offsite": `<!doctype html><title>offsite</title><p>x</p><img src="http://192.0.2.1/pixel.png">`,
};

let server: Server;
let base: string;
let browser: TestBrowser;

beforeAll(async () => {
  server = createServer((req, res) => {
    const html = PAGES[req.url ?? ""];
    if (html === undefined) res.writeHead(404).end();
    else res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test("loads a page, screenshots it as a PNG, and records dialogs, errors and offsite requests", async () => {
  const page = await browser.page();
  await page.goto(base + "/");
  expect(await page.textContent("#h")).toBe("Hello from the harness");
  expect(browser.dialogs).toEqual([]);

  const file = await browser.screenshot(page, "harness/self test");
  expect(file).toBe(`${SCREENSHOT_DIR}/harness-self-test.png`);
  const png = readFileSync(file);
  expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  expect(png.length).toBeGreaterThan(1000);

  await page.click("#b");
  await waitFor("the dialog", () => browser.dialogs.length > 0, 10_000);
  expect(browser.dialogs).toEqual(["alert: clicked harness"]);
  // The dialog was dismissed: the page still answers.
  expect(await page.title()).toBe("harness");

  await waitFor("the uncaught error", () => browser.errors.some((e) => e.includes("an uncaught error")), 10_000);
  expect(browser.errors.some((e) => e.startsWith("console error") && e.includes("a console error"))).toBe(true);
  expect(browser.offsite).toEqual([]);

  const other = await browser.page();
  await other.goto(base + "/offsite", { waitUntil: "domcontentloaded" });
  await waitFor("the offsite request", () => browser.offsite.length > 0, 10_000);
  expect(browser.offsite).toEqual(["http://192.0.2.1/pixel.png"]);
});
