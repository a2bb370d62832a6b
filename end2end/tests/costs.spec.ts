import { expect, test } from "@playwright/test";
import { hydrated, newProject, setKey } from "./helpers";

const REPLICATE_TOKEN = "r8_standin_token_0123456789";

test("a launch shows its cost first, a project budget refuses one that would pass it, and prices are editable", async ({ page, request }) => {
  await setKey(page, "replicate", "Replicate", REPLICATE_TOKEN);
  const project = await newProject(request, "Budgeted");

  // A budget of half a cent a month.
  await hydrated(page, "/");
  const row = page.locator("li", { has: page.getByRole("heading", { name: project }) });
  await row.getByText("Budget and spending").click();
  await row.getByLabel("Per month ($)").fill("0.005");
  await row.getByRole("button", { name: "Save budget" }).click();
  await expect(row.locator("[data-spending]")).toContainText("Budget: $0.0050 a month, no limit in total.");

  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Replicate" });
  await page.getByLabel("Model", { exact: true }).selectOption({ label: "FLUX.1 [schnell]" });
  await page.getByLabel("Prompt", { exact: true }).fill("a {red|blue} cat");
  const estimate = page.locator("[data-cost-estimate]");
  await expect(estimate).toHaveText("Estimated cost: $0.0060 (2 × $0.0030 per result)");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.getByText(/This batch: \$0\.0060; left this month: \$0\.0050/)).toBeVisible();
  await expect(page.locator("[data-batch-status]")).toHaveCount(0);

  // Cheaper on this machine: the same launch fits.
  await hydrated(page, "/settings");
  const price = page.getByLabel("Price of replicate black-forest-labs/flux-schnell, per result");
  await price.fill("0.001");
  await page.getByRole("button", { name: "Save price of black-forest-labs/flux-schnell" }).click();
  await expect(page.locator('[data-price="replicate/black-forest-labs/flux-schnell"]')).toContainText("(edited)");

  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Replicate" });
  await page.getByLabel("Model", { exact: true }).selectOption({ label: "FLUX.1 [schnell]" });
  await page.getByLabel("Prompt", { exact: true }).fill("a {red|blue} cat");
  await expect(estimate).toHaveText("Estimated cost: $0.0020 (2 × $0.0010 per result)");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.locator("[data-batch-status]")).toHaveText("2 of 2 done", { timeout: 30_000 });

  // Put the shipped price back for the other tests.
  await hydrated(page, "/settings");
  await page.getByRole("button", { name: "Reset price of black-forest-labs/flux-schnell" }).click();
  await expect(page.locator('[data-price="replicate/black-forest-labs/flux-schnell"]')).not.toContainText("(edited)");
});
