import { expect, test, type Page } from "@playwright/test";

import { call, hydrated, launchOffline, newProject, seriousViolations } from "./helpers";

// Waits for the run on the page to end, and answers each step's state by name.
async function finishedRun(page: Page) {
  const run = page.locator("[data-run-state]");
  await expect(run).toHaveAttribute("data-run-state", "done", { timeout: 60_000 });
  const states: Record<string, string> = {};
  for (const step of await page.locator("[data-run-step]").all()) {
    states[(await step.getAttribute("data-run-step"))!] = (await step.getAttribute("data-step-state"))!;
  }
  return states;
}

test("a three-step pipeline runs, and after an edit of its last step only that step runs again", async ({ page, request }) => {
  const project = await newProject(request, "Pipelines");
  await hydrated(page, "/pipelines");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await expect(page.getByText("No pipelines in this project yet.")).toBeVisible();
  await page.getByLabel("New pipeline").fill("Lighthouse in fog");
  await page.getByRole("button", { name: "Create pipeline" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Lighthouse in fog");

  // The first step is there to start from; make it small and quick.
  const generate = page.locator('[data-step="generate"]');
  await generate.getByLabel("Parameters (JSON)").fill('{"width": 128, "height": 96}');

  await page.getByLabel("New step").selectOption({ label: "Variations" });
  await page.getByRole("button", { name: "Add step" }).click();
  const variations = page.locator('[data-step="variations"]');
  await expect(variations.getByLabel("Takes the picture of")).toHaveValue("generate");
  await variations.getByLabel("Prompt", { exact: true }).fill("in thick fog");
  await variations.getByLabel("How many").fill("3");

  await page.getByLabel("New step").selectOption({ label: "Contact sheet" });
  await page.getByRole("button", { name: "Add step" }).click();
  const sheet = page.locator('[data-step="contact sheet"]');
  await expect(sheet.getByRole("checkbox", { name: "variations" })).toBeChecked();
  await sheet.getByLabel("Columns").fill("3");

  await page.getByRole("button", { name: "Save pipeline" }).click();
  await expect(page.getByText("Saved as version 2.")).toBeVisible();

  await page.getByLabel("Run seed (empty: a new one)").fill("7");
  await page.getByRole("button", { name: "Run pipeline" }).click();
  expect(await finishedRun(page)).toEqual({ generate: "done", variations: "done", "contact sheet": "done" });
  const pictures = page.locator('[data-run-step="variations"] img');
  await expect(pictures).toHaveCount(3);
  await expect.poll(() => pictures.first().evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(0);
  await expect(page.locator('[data-run-step="contact sheet"] img')).toHaveCount(1);

  // Edit the last step only: a new version, and the first two come from the cache.
  await page.locator('[data-step="contact sheet"]').getByLabel("Title").fill("Fog, three ways");
  await page.getByRole("button", { name: "Save pipeline" }).click();
  await expect(page.getByText("Saved as version 3.")).toBeVisible();
  await page.getByLabel("Run seed (empty: a new one)").fill("7");
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.locator("[data-preview]")).toContainText("1 step to run; from the cache: generate, variations");
  await page.getByRole("button", { name: "Run pipeline" }).click();
  await expect(page.getByRole("heading", { name: /version 3/ })).toBeVisible();
  expect(await finishedRun(page)).toEqual({ generate: "cached", variations: "cached", "contact sheet": "done" });

  // Re-run from the variations: they and the sheet run again, the first step does not.
  const before = await page.locator("#run-heading").textContent();
  await page.getByRole("button", { name: "Re-run from variations" }).click();
  await expect(page.locator("#run-heading")).not.toHaveText(before!);
  expect(await finishedRun(page)).toEqual({ generate: "cached", variations: "done", "contact sheet": "done" });

  // A full load of the page, now that it has runs, hydrates and shows the newest run; an
  // earlier one opens from the list.
  const newest = await page.locator("#run-heading").textContent();
  await hydrated(page, new URL(page.url()).pathname);
  await expect(page.locator("#run-heading")).toHaveText(newest!);
  await page.getByRole("button", { name: /^#\d+ · v2 · seed 7/ }).click();
  await expect(page.getByRole("heading", { name: /version 2 · seed 7/ })).toBeVisible();

  expect(await seriousViolations(page)).toEqual([]);
});

test("a picture's page runs a pipeline on it, from its input step", async ({ page, request }) => {
  test.setTimeout(60_000);
  const project = await newProject(request, "Pipeline input");
  await hydrated(page, "/pipelines");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("New pipeline").fill("Square thumbs");
  await page.getByRole("button", { name: "Create pipeline" }).click();
  const first = page.locator('[data-step="generate"]');
  await first.getByLabel("Kind").selectOption({ label: "Input picture" });
  await first.getByLabel("Step name").fill("picture");
  await page.getByLabel("New step").selectOption({ label: "Crop / resize" });
  await page.getByRole("button", { name: "Add step" }).click();
  const crop = page.locator('[data-step="crop resize"]');
  await crop.getByLabel("Width").fill("64");
  await crop.getByLabel("Height").fill("64");
  await crop.getByLabel("Fit").selectOption({ label: "Fill and crop" });
  await page.getByRole("button", { name: "Save pipeline" }).click();
  await expect(page.getByText("Saved as version 2.")).toBeVisible();

  // Without a picture, it says what to do.
  await page.getByRole("button", { name: "Run pipeline" }).click();
  await expect(page.getByText(/starts from a picture/)).toBeVisible();

  // From a picture of the project, by its page.
  const batch = await launchOffline(request, project, "a harbour", 1);
  const picture = await expect
    .poll(async () => (await call(request, "generate/batch", { batch_id: batch }))[1][0]?.id, { timeout: 30_000 })
    .not.toBeUndefined()
    .then(async () => (await call(request, "generate/batch", { batch_id: batch }))[1][0].id as number);
  await hydrated(page, `/products/${picture}`);
  await page.getByRole("link", { name: "Run a pipeline on it" }).click();
  await expect(page.locator("[data-run-input]")).toContainText(`picture #${picture}`);
  await page.getByRole("link", { name: "Square thumbs" }).click();
  await expect(page.getByText(`Starts from picture #${picture}`)).toBeVisible();
  const pipelinePage = new URL(page.url()).pathname;
  await page.getByRole("button", { name: "Run pipeline" }).click();
  expect(await finishedRun(page)).toEqual({ picture: "done", "crop resize": "done" });
  const thumb = page.locator('[data-run-step="crop resize"] img');
  await expect(thumb).toHaveCount(1);
  await thumb.click();
  await expect(page.getByRole("link", { name: new RegExp(`Made from Image #${picture}`) })).toBeVisible();

  // Deleted after a confirmation, and gone from the project's list.
  await hydrated(page, pipelinePage);
  await page.getByRole("button", { name: "Delete pipeline…" }).click();
  await page.getByRole("button", { name: "Yes, delete it" }).click();
  await expect(page).toHaveURL(/\/pipelines\?project=/);
  await expect(page.getByRole("link", { name: "Square thumbs" })).toHaveCount(0);
});
