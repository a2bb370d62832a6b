import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { call, hydrated, newProject, openBatch } from "./helpers";

// Runs `body` with the queue paused (so jobs wait where the test can see them), and always
// resumes it, so a failure cannot leave the next test with a stopped queue.
async function whilePaused(request: APIRequestContext, body: () => Promise<void>) {
  await call(request, "queue/pause", { paused: "true" });
  try {
    await body();
  } finally {
    await call(request, "queue/pause", { paused: "false" });
  }
}

async function fillGenerateForm(page: Page, project: string, prompt: string, count: number) {
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Offline procedural" });
  await page.getByLabel("Prompt", { exact: true }).fill(prompt);
  await page.getByLabel("Width").fill("256");
  await page.getByLabel("Height").fill("256");
  await page.getByLabel("Images").fill(String(count));
}

test("four offline images are queued, progress, appear as thumbnails and open full size", async ({ page, request, context }) => {
  const project = await newProject(request, "Lighthouses");
  // Paused, the batch waits at 0 so the progress can be seen moving when the queue resumes.
  await whilePaused(request, async () => {
    await hydrated(page, "/generate");
    await fillGenerateForm(page, project, "a lighthouse on a cliff at dusk", 4);
    await page.getByLabel("Prompt", { exact: true }).press("Control+Enter");

    const status = page.locator("[data-batch-status]");
    await expect(status).toHaveText("0 of 4 done");
    const bars = page.getByRole("list", { name: "Batch progress" }).getByRole("progressbar");
    await expect(bars).toHaveCount(4);
    for (const bar of await bars.all()) await expect(bar).toHaveAttribute("aria-valuenow", "0");
    await expect(page.locator("[data-queue-indicator]")).toHaveText("Paused · 4 waiting");

    await call(request, "queue/pause", { paused: "false" });
    await expect(status).toHaveText("4 of 4 done", { timeout: 30_000 });
    for (const bar of await bars.all()) await expect(bar).toHaveAttribute("aria-valuenow", "100");

    const thumbnails = page.getByRole("list", { name: "Results" }).getByRole("img");
    await expect(thumbnails).toHaveCount(4);
    for (const img of await thumbnails.all()) {
      await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(256);
    }

    const [full] = await Promise.all([
      context.waitForEvent("page"),
      page.getByRole("link", { name: /Open image/ }).first().click(),
    ]);
    const response = await full.waitForLoadState().then(() => full.request.get(full.url()));
    expect(response.headers()["content-type"]).toBe("image/png");
    expect(full.url()).toMatch(/\/media\/\d+\/[0-9a-f]{64}\.png$/);
  });
});

test("a queued job can be cancelled from the Queue page", async ({ page, request }) => {
  const project = await newProject(request, "Cancel me");
  await whilePaused(request, async () => {
    await hydrated(page, "/generate");
    await fillGenerateForm(page, project, "a job to cancel", 2);
    await page.getByRole("button", { name: "Generate" }).click();
    const batch = await page.locator("[data-batch-id]").getAttribute("data-batch-id");

    await page.getByRole("link", { name: "Queue", exact: true }).click();
    await expect(page.getByText("The queue is paused")).toBeVisible();
    await openBatch(page, batch!);
    await page.getByRole("button", { name: `Cancel Image 1 of batch ${batch}`, exact: true }).click();
    const first = page.locator("[data-job-id]", { hasText: new RegExp(`Image 1 of batch ${batch}\\b`) });
    await expect(first).toHaveAttribute("data-state", "canceled");
    await expect(first.getByRole("button", { name: `Retry Image 1 of batch ${batch}`, exact: true })).toBeVisible();

    await page.getByRole("button", { name: "Resume queue" }).click();
    const second = page.locator("[data-job-id]", { hasText: new RegExp(`Image 2 of batch ${batch}\\b`) });
    await expect(second).toHaveAttribute("data-state", "succeeded", { timeout: 30_000 });
    await expect(first).toHaveAttribute("data-state", "canceled");

    // A cancelled job can be run again.
    await first.getByRole("button", { name: `Retry Image 1 of batch ${batch}`, exact: true }).click();
    await expect(first).toHaveAttribute("data-state", "succeeded", { timeout: 30_000 });
  });
});

test("a job moved to the front is listed first among the waiting ones", async ({ page, request }) => {
  const project = await newProject(request, "Reorder");
  await whilePaused(request, async () => {
    await hydrated(page, "/generate");
    await fillGenerateForm(page, project, "a job to reorder", 3);
    await page.getByRole("button", { name: "Generate" }).click();
    const batch = await page.locator("[data-batch-id]").getAttribute("data-batch-id");
    await page.getByRole("link", { name: "Queue", exact: true }).click();
    await openBatch(page, batch!);
    const waiting = page.locator(`[data-job-id][data-state="queued"]`, { hasText: new RegExp(`of batch ${batch}\\b`) });
    await expect(waiting).toHaveCount(3);
    await expect(waiting.first()).toContainText(new RegExp(`Image 1 of batch ${batch}\\b`));
    await page.getByRole("button", { name: `Move to front: Image 3 of batch ${batch}`, exact: true }).click();
    await expect(waiting.first()).toContainText(new RegExp(`Image 3 of batch ${batch}\\b`));
  });
});

test("a launch without a prompt says so next to the prompt and queues nothing", async ({ page, request }) => {
  const project = await newProject(request, "Empty prompt");
  await hydrated(page, "/generate");
  await fillGenerateForm(page, project, "", 2);
  await page.getByLabel("Width").fill("5000");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.locator("#gen-prompt-error")).toHaveText("Write a prompt first.");
  await expect(page.locator("#param-width-error")).toHaveText("Width must be between 64 and 2048; got 5000.");
  await expect(page.locator("[data-batch-id]")).toHaveCount(0);
});
