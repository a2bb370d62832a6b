import { expect, test } from "@playwright/test";

import { call, hydrated, launchOffline, newProject, openBatch, seriousViolations } from "./helpers";

test("the Queue page groups jobs by batch, pages a long batch, filters it, and cancels it whole", async ({ page, request }) => {
  const project = await newProject(request, "Long batch");
  await call(request, "queue/pause", { paused: "true" });
  try {
    // 3 × 20 = 60 jobs: more than one page of a batch's jobs.
    const batch = await launchOffline(request, project, "a queued {lake|hill|tree}", 20);
    await hydrated(page, "/queue");
    const active = page.locator('[data-queue-section="active"]');
    const row = active.locator(`[data-batch-row="${batch}"]`);
    await expect(row.locator('[data-count="queued"]')).toHaveText("60 waiting");
    await expect(row).toContainText("a queued {lake|hill|tree}");
    await openBatch(page, batch);
    expect(await seriousViolations(page)).toEqual([]);

    const jobs = row.locator("[data-job-id]");
    await expect(jobs).toHaveCount(50);
    await row.getByRole("button", { name: `Batch ${batch}: next jobs` }).click();
    await expect(jobs).toHaveCount(10);
    await expect(jobs.first()).toContainText(`Image 51 of batch ${batch}`);
    await row.getByRole("button", { name: `Batch ${batch}: previous jobs` }).click();
    await expect(jobs).toHaveCount(50);

    // One job cancelled: the counts follow, and the filter finds it.
    await row.getByRole("button", { name: `Cancel Image 2 of batch ${batch}`, exact: true }).click();
    await expect(row.locator('[data-count="canceled"]')).toHaveText("1 cancelled");
    await expect(row.locator('[data-count="queued"]')).toHaveText("59 waiting");
    await row.getByLabel("Show").selectOption("canceled");
    await expect(jobs).toHaveCount(1);
    await expect(jobs.first()).toHaveAttribute("data-state", "canceled");

    // By keyboard: the row's disclosure closes and opens with Enter.
    const toggle = row.locator("button[aria-expanded]");
    await toggle.focus();
    await page.keyboard.press("Enter");
    await expect(toggle).toHaveAttribute("aria-expanded", "false");
    await expect(jobs).toHaveCount(0);
    await page.keyboard.press("Enter");
    await expect(toggle).toHaveAttribute("aria-expanded", "true");

    // The whole batch cancelled: it leaves the queue for the finished list, still open.
    await row.getByRole("button", { name: `Cancel Batch ${batch}`, exact: true }).click();
    const finished = page.locator(`[data-queue-section="finished"] [data-batch-row="${batch}"]`);
    await expect(finished.locator('[data-count="canceled"]')).toHaveText("60 cancelled");
    await expect(row).toHaveCount(0);
    await expect(finished.locator("button[aria-expanded]")).toHaveAttribute("aria-expanded", "true");
  } finally {
    await call(request, "queue/pause", { paused: "false" });
  }
});

test("a finished batch shows its pictures, and each finished job links to its own", async ({ page, request }) => {
  const project = await newProject(request, "Pictures in the queue");
  const batch = await launchOffline(request, project, "a queue {moon|sun}", 1);
  await hydrated(page, "/queue");
  const row = page.locator(`[data-queue-section="finished"] [data-batch-row="${batch}"]`);
  await expect(row.locator('[data-count="succeeded"]')).toHaveText("2 done", { timeout: 30_000 });
  await expect(row.getByRole("link", { name: new RegExp(`^Batch ${batch}: picture`) })).toHaveCount(2);
  await openBatch(page, batch);
  const jobs = row.locator("[data-job-id]");
  await expect(jobs).toHaveCount(2);
  await expect(jobs.locator("img")).toHaveCount(2);
  await row.getByRole("link", { name: `Image 1 of batch ${batch}: open the picture` }).click();
  await expect(page).toHaveURL(/\/products\/\d+$/);
  await expect(page.locator("[data-viewer-image]")).toBeVisible();
});
