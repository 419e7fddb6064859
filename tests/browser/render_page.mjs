// Renders one local HTML file in the system's headless Chromium (Debian's chromium package,
// /usr/bin/chromium, driven by playwright-core, which downloads no browser of its own) and prints
// what a reader would see and what went wrong, as one JSON object on stdout:
//
//   node tests/browser/render_page.mjs <file.html> <screenshot.png>
//
//   {"consoleErrors": [text, ...],          console messages of type "error"
//    "pageErrors": [message, ...],          uncaught exceptions in the page
//    "failedRequests": [{url, error, blocked}, ...],
//    "text": document.body.innerText, "title": document.title,
//    "rto": [{id, seconds}, ...]}           each [data-rto-seconds] element: the id of its closest
//                                           <tr> (null when none) and the attribute's value
//
// Only file:// requests are served: any other request is aborted before it leaves the machine
// and reported in failedRequests with blocked true. A full-page PNG screenshot is written to
// <screenshot.png>. Exit status: 0 when the page loaded (errors in it are reported, not fatal:
// the caller judges them), 1 for a usage error, 2 when Chromium cannot be launched, 3 when the
// page cannot be loaded or rendered.

import { mkdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Containers often have a small /dev/shm; Chromium then crashes rendering large pages.
  "--disable-dev-shm-usage",
];

function fail(status, message) {
  process.stderr.write(`render_page: ${message}\n`);
  process.exit(status);
}

const [htmlArg, pngArg] = process.argv.slice(2);
if (!htmlArg || !pngArg || process.argv.length !== 4) {
  fail(1, "usage: node tests/browser/render_page.mjs <file.html> <screenshot.png>");
}
const htmlPath = path.resolve(htmlArg);
const pngPath = path.resolve(pngArg);

let browser;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
} catch (err) {
  fail(2, `cannot launch Chromium at ${CHROMIUM} (install Debian's chromium package: ` +
    `bash scripts/setup.sh --with-browser): ${err.message.split("\n")[0]}`);
}

const consoleErrors = [];
const pageErrors = [];
const failedRequests = [];
const blocked = new Set();

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: "block" });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:")) {
      return route.continue();
    }
    blocked.add(url);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      consoleErrors.push(msg.text());
    }
  });
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("requestfailed", (request) => {
    const url = request.url();
    failedRequests.push({ url, error: request.failure()?.errorText ?? "failed", blocked: blocked.has(url) });
  });
  page.on("dialog", (dialog) => dialog.dismiss().catch(() => {}));
  page.on("crash", () => pageErrors.push("the page crashed"));

  await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" });
  await mkdir(path.dirname(pngPath), { recursive: true });
  await page.screenshot({ path: pngPath, fullPage: true });
  const seen = await page.evaluate(() => ({
    text: document.body ? document.body.innerText : "",
    title: document.title,
    rto: Array.from(document.querySelectorAll("[data-rto-seconds]"), (el) => ({
      id: el.closest("tr")?.id || null,
      seconds: el.getAttribute("data-rto-seconds"),
    })),
  }));
  process.stdout.write(JSON.stringify({ consoleErrors, pageErrors, failedRequests, ...seen }) + "\n");
} catch (err) {
  await browser.close().catch(() => {});
  fail(3, `cannot render ${htmlPath}: ${err.message.split("\n")[0]}`);
}
await browser.close();
