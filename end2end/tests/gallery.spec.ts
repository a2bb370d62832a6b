import { expect, test, type Page } from "@playwright/test";

import { hydrated, seriousViolations } from "./helpers";

// The e2e server's data directory is seeded with 3,000 products (scripts/test).

async function count(page: Page) {
  const text = (await page.locator("[data-gallery-count]").textContent()) ?? "";
  return Number(text.split(" ")[0]);
}

test("a gallery of thousands scrolls with a bounded DOM, reaches its last product, and keeps its filter in the URL", async ({ page }) => {
  await hydrated(page, "/gallery?");
  const grid = page.locator("[data-gallery-grid]");
  await expect(grid).toBeVisible();
  const total = await count(page);
  expect(total).toBeGreaterThan(2500);
  await expect(grid.locator("img").first()).toBeVisible();
  // Scroll through to the end: tiles come and go, their number stays bounded.
  let most = 0;
  for (let i = 1; i <= 10; i++) {
    await grid.evaluate((el, f) => (el.scrollTop = el.scrollHeight * f), i / 10);
    await page.waitForTimeout(60);
    most = Math.max(most, await grid.locator("[data-tile]").count());
  }
  expect(most).toBeLessThan(300);
  // The last product, by keyboard.
  await grid.focus();
  await page.keyboard.press("End");
  const last = page.locator(`#tile-${total - 1}`);
  await expect(last.locator("img")).toBeVisible();

  // A filter lives in the URL and survives a reload.
  await page.getByLabel("Rating at least").selectOption("4");
  await expect(page).toHaveURL(/rating=4/);
  await expect.poll(() => count(page)).toBeLessThan(total);
  const rated = await count(page);
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByLabel("Rating at least")).toHaveValue("4");
  expect(await count(page)).toBe(rated);

  // Search, composed with the filter.
  await page.getByLabel("Search prompts, or a seed").fill("red fox");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/q=red\+fox/);
  await expect(page.locator("[data-gallery-count]")).toContainText("matching fox red");
  expect(await count(page)).toBeLessThan(rated);
  // The matched words are marked on the tiles and in the viewer opened from the search.
  const caption = page.locator("#tile-0 [data-tile-caption]");
  await expect(caption.locator("mark[data-match]").first()).toHaveText(/^(red|fox)$/i);
  expect(await seriousViolations(page)).toEqual([]);
  await page.locator("#tile-0").dblclick();
  await expect(page.locator("[data-prompt] mark[data-match]").first()).toHaveText(/^(red|fox)$/i);
  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(/q=red\+fox/);

  // The view is remembered: /gallery with no filter opens it again.
  await hydrated(page, "/gallery");
  await expect(page).toHaveURL(/rating=4/);
});

test("triage by keyboard: rate, reject with undo, select and delete to the trash, restore", async ({ page }) => {
  await hydrated(page, "/gallery?sort=oldest");
  const grid = page.locator("[data-gallery-grid]");
  await expect(grid.locator("img").first()).toBeVisible();
  await grid.focus();
  await page.keyboard.press("ArrowRight");
  const focused = page.locator("#tile-1");
  await expect(focused).toHaveClass(/ring-4/);
  const id = await focused.locator("img").getAttribute("data-product-id");
  await page.keyboard.press("5");
  await expect(focused.locator("[data-rating]")).toContainText("★5");
  await page.keyboard.press("f");
  await expect(focused.locator("[data-favourite]")).toBeVisible();
  // Reject: gone, with an Undo.
  await page.keyboard.press("x");
  await expect(focused.locator("[data-hidden-tile]")).toBeVisible();
  await expect(page.locator("[data-undo-toast]")).toHaveText("Rejected.");
  await page.keyboard.press("u");
  await expect(focused.locator(`img[data-product-id="${id}"]`)).toBeVisible();
  // The rating stuck: a reload shows it.
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("#tile-1 [data-rating]")).toContainText("★5");

  // Keys help.
  await grid.focus();
  await page.keyboard.press("?");
  await expect(page.locator("[data-keys-help]")).toBeVisible();
  await page.keyboard.press("Escape");

  // Select two and delete them; the trash holds them; restore one from there.
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press(" ");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press(" ");
  await expect(page.locator("[data-selection]")).toHaveText("2 selected:");
  // A rating key rates the whole selection.
  await page.keyboard.press("3");
  await expect(page.locator("[data-undo-toast]")).toHaveText("Rated the selection.");
  // (after the reload the grid's focus started again at the first tile: 1 and 2 are selected)
  await expect(page.locator("#tile-1 [data-rating]")).toContainText("★3");
  await expect(page.locator("#tile-2 [data-rating]")).toContainText("★3");
  await page.keyboard.press(" ");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press(" ");
  await expect(page.locator("[data-selection]")).toHaveText("2 selected:");
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page.locator("[data-undo-toast]")).toHaveText("Moved to the trash.");
  await page.getByRole("checkbox", { name: "Trash" }).check();
  await expect(page).toHaveURL(/trash=1/);
  await expect.poll(() => count(page)).toBe(2);
  const trashGrid = page.locator("[data-gallery-grid]");
  await expect(trashGrid.locator("img")).toHaveCount(2);
  await trashGrid.focus();
  await page.keyboard.press(" ");
  await page.getByRole("button", { name: "Restore" }).click();
  await expect(page.locator("[data-undo-toast]")).toHaveText("Restored.");
  await page.reload();
  await expect.poll(() => count(page)).toBe(1);
});

test("from the grid to the viewer and back by keyboard; use these settings fills Generate without queuing", async ({ page }) => {
  await hydrated(page, "/gallery?sort=oldest");
  const grid = page.locator("[data-gallery-grid]");
  await expect(grid.locator("img").first()).toBeVisible();
  await grid.focus();
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  const id = await page.locator("#tile-2 img").getAttribute("data-product-id");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/products/${id}\\?gallery=`));
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("[data-viewer-image]")).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  const prompt = (await page.locator("dd").filter({ hasText: "," }).first().textContent()) ?? "";
  // Next and previous follow the gallery's order.
  await page.keyboard.press("ArrowRight");
  await expect(page).not.toHaveURL(new RegExp(`/products/${id}\\?`));
  await expect(page).toHaveURL(/at=3/);
  await page.keyboard.press("ArrowLeft");
  await expect(page).toHaveURL(new RegExp(`/products/${id}\\?.*at=2`));
  // Tag it from the viewer.
  await page.getByLabel("Add a tag").fill("Viewer Pick");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.locator("[data-product-tags]")).toContainText("Viewer Pick");

  // Use these settings: the banner offers them, the form is untouched until Apply, nothing queues.
  const queueBefore = await page.locator("[data-queue-indicator]").textContent();
  await page.locator("[data-use-settings]").click();
  await expect(page.locator("[data-settings-banner]")).toBeVisible();
  await expect(page.locator("#gen-prompt")).toHaveValue("");
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole("button", { name: "Apply to the form" }).click();
  await expect(page.locator("#gen-prompt")).not.toHaveValue("");
  expect(prompt.length).toBeGreaterThan(0);
  await expect(page.locator("[data-queue-indicator]")).toHaveText(queueBefore ?? "");

  // Escape from the viewer goes back to the gallery view it came from.
  await page.goBack();
  await expect(page.locator("[data-viewer-image]")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(/\/gallery\?sort=oldest/);
});

test("compare two products: pictures side by side, zoom together, differing settings marked", async ({ page }) => {
  await hydrated(page, "/gallery?sort=oldest");
  const grid = page.locator("[data-gallery-grid]");
  await expect(grid.locator("img").first()).toBeVisible();
  await grid.focus();
  await page.keyboard.press("c");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("c");
  await expect(page.locator("[data-compare-set]")).toHaveText("Compare set: 2");
  await expect(page.locator("#tile-1 [data-in-compare]")).toBeVisible();
  await page.getByRole("link", { name: "Compare", exact: true }).click();
  await expect(page).toHaveURL(/\/compare\?ids=\d+,\d+/);
  await expect(page.locator("[data-compare-image]")).toHaveCount(2);
  await expect(page.locator('[data-compare-table] tr[data-differs="true"]').first()).toBeVisible();
  await expect(page.locator("[data-compare-table] th", { hasText: "Seed" })).toContainText("differs");
  await page.locator("#compare-zoom").fill("2");
  for (const image of await page.locator("[data-compare-image]").all()) {
    await expect(image).toHaveAttribute("style", /scale\(2\)/);
  }
  expect(await seriousViolations(page)).toEqual([]);
  await hydrated(page, "/compare?ids=1");
  await expect(page.getByText("Compare takes two to four products")).toBeVisible();
});

test("a tag renamed into another merges the two everywhere", async ({ page }) => {
  await hydrated(page, "/tags");
  const row = (name: string) => page.locator(`li[data-tag="${name}"]`);
  const count = async (name: string) => Number(((await row(name).locator("span").first().textContent()) ?? "0").split(" ")[0]);
  const wip = await count("wip");
  const keeper = await count("keeper");
  expect(wip).toBeGreaterThan(0);
  await row("wip").getByLabel("New name for wip").fill("keeper");
  await row("wip").getByRole("button", { name: "Rename wip" }).click();
  await expect(row("wip")).toHaveCount(0);
  await expect.poll(() => count("keeper")).toBeGreaterThan(keeper);
  expect(await count("keeper")).toBeLessThanOrEqual(keeper + wip);
  // The gallery filters by it from the tag's link.
  await row("keeper").getByRole("link", { name: "keeper" }).click();
  await expect(page).toHaveURL(/tag=keeper/);
  await expect(page.locator("[data-gallery-count]")).toContainText("products");
});
