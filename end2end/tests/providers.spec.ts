import { expect, test, type Page } from "@playwright/test";
import { call, hydrated, newProject, setKey } from "./helpers";

// The stand-ins' keys (factory::testing): the server starts with no keys at all.
const REPLICATE_TOKEN = "r8_standin_token_0123456789";
const CIVITAI_TOKEN = "civitai_standin_token_5a6b7c8d";

async function generate(page: Page, project: string, provider: string, prompt: string) {
  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: provider });
  await page.getByLabel("Prompt", { exact: true }).fill(prompt);
}

test("a key set in Settings is tested first, shown only by its hint, and runs a Replicate batch", async ({ page, request }) => {
  // Other tests may have set it already: start from none.
  await call(request, "settings/keys/remove", { provider: "replicate" });
  await hydrated(page, "/settings");
  const card = page.locator('[data-provider="replicate"]');
  const input = card.getByLabel(/key for Replicate/i);
  await input.fill("r8_wrong_token_424242");
  await card.getByRole("button", { name: "Test and save" }).click();
  await expect(card.getByText(/Replicate did not accept this key/)).toBeVisible();
  await expect(card.locator("[data-key-status]")).toContainText("Not set");

  await setKey(page, "replicate", "Replicate", REPLICATE_TOKEN);
  await expect(card.locator("[data-key-status]")).toContainText("Set in app (…6789), last verified");
  await page.reload();
  expect(await page.content()).not.toContain(REPLICATE_TOKEN);
  await card.getByRole("button", { name: "Test key for Replicate" }).click();
  await expect(card.getByText("The key works.")).toBeVisible();

  // Its rate limits, at the published ones, can be changed here.
  await card
    .getByText("Rate limits: submissions 600 a minute, other calls 3000 a minute; the default number of jobs at once.")
    .click();
  await card.getByLabel("Submissions a minute").fill("lots");
  await card.getByRole("button", { name: "Save limits" }).click();
  await expect(card.getByText(/Write a whole number of calls a minute/)).toBeVisible();
  await card.getByLabel("Submissions a minute").fill("1200");
  await card.getByLabel("Jobs at once").fill("0");
  await card.getByRole("button", { name: "Save limits" }).click();
  await expect(card.getByText(/Jobs at once is a whole number from 1 to 256/)).toBeVisible();
  await card.getByLabel("Jobs at once").fill("2");
  await card.getByRole("button", { name: "Save limits" }).click();
  await expect(
    card.getByText("Rate limits: submissions 1200 a minute, other calls 3000 a minute; 2 jobs at once."),
  ).toBeVisible();

  const project = await newProject(request, "Replicate");
  await generate(page, project, "Replicate", "a {red|blue} lighthouse");
  await page.getByLabel("Model", { exact: true }).selectOption({ label: "FLUX.1 [schnell]" });
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.locator("[data-batch-status]")).toHaveText("2 of 2 done", { timeout: 30_000 });
  const thumbnails = page.getByRole("list", { name: "Results" }).getByRole("img");
  await expect(thumbnails).toHaveCount(2);
});

test("any Replicate model is loaded by reference into typed fields, and a bad one says why", async ({ page, request }) => {
  await setKey(page, "replicate", "Replicate", REPLICATE_TOKEN);
  const project = await newProject(request, "By reference");
  await generate(page, project, "Replicate", "a fox in the snow");
  const reference = page.getByLabel("Any model by reference");
  await reference.fill("nobody/nothing");
  await page.getByRole("button", { name: "Load model" }).click();
  await expect(page.getByText(/Replicate has no model “nobody\/nothing”/)).toBeVisible();
  await reference.fill("stability-ai/sdxl");
  await page.getByRole("button", { name: "Load model" }).click();
  const model = page.getByLabel("Model", { exact: true });
  await expect(model.locator("option:checked")).toHaveText("stability-ai/sdxl (7762fd07)");
  await expect(page.getByLabel("Scheduler", { exact: true })).toHaveValue("K_EULER");
  await expect(page.getByLabel("Guidance Scale")).toHaveValue("7.5");
  await page.getByLabel("Negative prompt (optional)").fill("blurry");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.locator("[data-batch-status]")).toHaveText("1 of 1 done", { timeout: 30_000 });
});

test("Civitai checkpoints and LoRAs are picked in the model browser, checked, run and remembered", async ({ page, request }) => {
  await setKey(page, "civitai", "Civitai", CIVITAI_TOKEN);
  const project = await newProject(request, "Civitai");
  await generate(page, project, "Civitai", "a castle on a hill");
  await page.getByText("Browse Civitai models").click();
  await page.getByLabel("Search the catalog").fill("juggernaut");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const results = page.getByRole("list", { name: "Catalog results" });
  await expect(results.getByRole("img", { name: "Preview of Juggernaut XL" })).toBeVisible();
  await results.getByRole("button", { name: "Use as model Juggernaut XL" }).click();
  await expect(page.getByLabel("Model", { exact: true }).locator("option:checked")).toHaveText("Juggernaut XL — v9");

  await page.getByLabel("Kind").selectOption("lora");
  await page.getByLabel("Base model").selectOption("SDXL 1.0");
  await page.getByLabel("Search the catalog").fill("detail");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await results.getByRole("button", { name: "Add LoRA Detail Tweaker XL" }).click();
  const strength = page.getByLabel("Detail Tweaker XL — v1.0 strength");
  await expect(strength).toHaveValue("0.8");
  await expect(page.getByLabel("Prompt", { exact: true })).toHaveValue("a castle on a hill, detailed");

  await strength.fill("5");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.getByText("LoRA 1 strength must be between -1 and 2; got 5.")).toBeVisible();
  await strength.fill("0.6");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.locator("[data-batch-status]")).toHaveText("1 of 1 done", { timeout: 30_000 });

  // The project remembers what it picked.
  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Civitai" });
  await page.getByText("Browse Civitai models").click();
  const picked = page.locator("section", { has: page.getByRole("heading", { name: "Picked in this project" }) });
  await expect(picked.getByRole("button", { name: "Add LoRA Detail Tweaker XL — v1.0" })).toBeVisible();
  await expect(picked.getByRole("button", { name: "Use as model Juggernaut XL — v9" })).toBeVisible();
});
