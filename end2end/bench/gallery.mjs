// The browser half of the gallery benchmark (scripts/bench-gallery-browser runs it against a
// server whose data directory holds 100,000 products, 50,000 of them on one day). Prints a
// Markdown table; passes or fails nothing.
import { chromium } from "@playwright/test";

const base = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
await context.addInitScript(() => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push(e.duration);
  }).observe({ type: "longtask", buffered: true });
});
const page = await context.newPage();
const rows = [];
const row = (what, value, goal) => rows.push(`| ${what} | ${value} | ${goal} |`);

// Time from navigation start to the first painted (decoded) thumbnail in the grid.
async function firstThumbnail() {
  await page.goto(`${base}/gallery?sort=newest`);
  await page.waitForFunction(
    () => [...document.querySelectorAll("[data-gallery-grid] img")].some((i) => i.complete && i.naturalWidth > 0),
    null,
    { timeout: 60_000, polling: 5 },
  );
  return page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { painted: performance.now(), html: nav.responseEnd, hydrated: Number(document.body.dataset.hydratedAt ?? 0) };
  });
}
const media = () =>
  page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((e) => e.name.includes("/media/"))
      .reduce((sum, e) => sum + e.transferSize, 0),
  );

const cold = await firstThumbnail();
await page.waitForLoadState("networkidle");
const coldBytes = await media();
const warm = await firstThumbnail();
const warmBytes = await media();
row("first painted thumbnail, cold load", `${cold.painted.toFixed(0)} ms (HTML done at ${cold.html.toFixed(0)} ms)`, "—");
row("first painted thumbnail, warm load", `${warm.painted.toFixed(0)} ms (HTML done at ${warm.html.toFixed(0)} ms)`, "< 300 ms");
row("thumbnail bytes fetched, first visit / revisit", `${coldBytes} / ${warmBytes}`, "revisit: 0");

const grid = page.locator("[data-gallery-grid]");
const total = Number(await grid.getAttribute("data-total"));
const tiles = () => grid.locator("[data-tile]").count();
const longTasks = () => page.evaluate(() => window.__longTasks.splice(0).filter((d) => d > 50).length);
await longTasks();

// Scroll through 10,000 products a viewport at a time, as a person flinging the wheel would.
const perRow = await page.evaluate(() => {
  const g = document.querySelector("[data-gallery-grid]");
  const first = g.querySelector("[data-tile]");
  return Math.max(1, Math.floor(g.clientWidth / (first.getBoundingClientRect().width + 8)));
});
let most = 0;
let steps = 0;
const rowPx = await page.evaluate(() => document.querySelector("[data-tile]").getBoundingClientRect().height + 8);
const target = (10_000 / perRow) * rowPx;
for (let y = 0; y < target; y += 800) {
  await grid.evaluate((el, top) => (el.scrollTop = top), y);
  await page.waitForTimeout(16);
  most = Math.max(most, await tiles());
  steps++;
}
await page.waitForTimeout(300);
row(`thumbnail elements in the DOM while scrolling 10,000 products (${steps} steps)`, `at most ${most}`, "bounded, a few hundred");
row("long tasks (> 50 ms) during that scroll", String(await longTasks()), "0");

// The scrubber: jump into the month that holds the 50,000-product day.
const months = page.locator("[data-scrubber] button");
let biggest = 0;
let best = 0;
const count = await months.count();
const labels = await months.allTextContents();
// Month buttons do not show counts: the dense day is 182 days back, so take that month.
const dense = new Date(Date.now() - 182 * 86_400_000);
const name = dense.toLocaleString("en-GB", { month: "short", timeZone: "UTC" }) + " " + dense.getUTCFullYear();
best = labels.findIndex((l) => l.trim() === name);
if (best < 0) best = Math.floor(count / 2);
await longTasks();
await months.nth(best).click();
await page.waitForFunction(
  () => [...document.querySelectorAll("[data-gallery-grid] img")].some((i) => i.complete && i.naturalWidth > 0),
  null,
  { timeout: 30_000 },
);
await page.waitForTimeout(300);
row(`long tasks during a scrubber jump into ${labels[best]?.trim()} (the 50,000-product day)`, String(await longTasks()), "0");
void biggest;

// The last product: by scrolling to the bottom, and by the scrubber's oldest month.
await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
const lastByScroll = await page
  .locator(`#tile-${total - 1} img`)
  .waitFor({ timeout: 30_000 })
  .then(() => "yes")
  .catch(() => "NO");
await months.nth(count - 1).click();
await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
const lastByScrubber = await page
  .locator(`#tile-${total - 1} img`)
  .waitFor({ timeout: 30_000 })
  .then(() => "yes")
  .catch(() => "NO");
const boxHeight = await grid.evaluate((el) => el.scrollHeight);
row(`product ${total} (the last) reachable by scrolling / by the scrubber`, `${lastByScroll} / ${lastByScrubber}`, "yes / yes");
row("scroll box height", `${boxHeight} px`, "< 16.7M px");

console.log(`| ${total} products in the browser | measured | goal |\n|---|---|---|\n${rows.join("\n")}`);
await browser.close();
