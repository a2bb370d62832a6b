import { expect, test, type Page } from "@playwright/test";
import { hydrated, newProject, seriousViolations, setKey } from "./helpers";

const REPLICATE_TOKEN = "r8_standin_token_0123456789";
const FAL_KEY = "standin-id:standin-secret";


const results = (page: Page) => page.getByRole("list", { name: "Results" });
const status = (page: Page) => page.locator("[data-batch-status]");

test("a result used as input across two providers makes a chain whose lineage links both ways", async ({ page, request }) => {
  await setKey(page, "replicate", "Replicate", REPLICATE_TOKEN);
  await setKey(page, "fal", "fal.ai", FAL_KEY);
  const project = await newProject(request, "Lineage");
  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Replicate" });
  await page.getByLabel("Prompt", { exact: true }).fill("a lighthouse");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(status(page)).toHaveText("1 of 1 done", { timeout: 30_000 });
  const first = (await results(page).getByRole("link", { name: /^Image #\d+$/ }).textContent())!.trim();

  // Use as input: the form switches to a model that takes an image, and shows it.
  await results(page).getByRole("button", { name: /Use as input/ }).click();
  const model = page.getByLabel("Model", { exact: true });
  await expect(model.locator("option:checked")).toHaveText("FLUX.1 [dev]");
  const picker = page.locator("[data-input-image]");
  await expect(picker.getByRole("link", { name: first })).toBeVisible();
  await expect(page.getByLabel("Strength")).toHaveValue("0.8");
  await page.getByLabel("Prompt", { exact: true }).fill("the lighthouse at night");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(results(page).getByRole("link", { name: `made from ${first.replace("Image ", "")}` })).toBeVisible({ timeout: 30_000 });
  const second = (await results(page).getByRole("link", { name: /^Image #\d+$/ }).textContent())!.trim();

  // The next step runs on fal.
  await results(page).getByRole("button", { name: /Use as input/ }).click();
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "fal.ai" });
  await model.selectOption({ label: "FLUX.1 [dev] image-to-image" });
  await expect(picker.getByRole("link", { name: second })).toBeVisible();
  await page.getByLabel("Prompt", { exact: true }).fill("the lighthouse in a storm");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(results(page).getByRole("link", { name: `made from ${second.replace("Image ", "")}` })).toBeVisible({ timeout: 30_000 });

  // Follow the lineage: the last image, what it was made from, and back.
  await results(page).getByRole("link", { name: /^Image #\d+$/ }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Image #\d+$/);
  const third = (await page.getByRole("heading", { level: 1 }).textContent())!.trim();
  await expect(page.getByText("fal · fal-ai/flux/dev/image-to-image")).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole("link", { name: `Made from ${second}` }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(second);
  await expect(page.getByRole("link", { name: `Used for ${third}` })).toBeVisible();
  await page.getByRole("link", { name: `Made from ${first}` }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(first);
  await expect(page.getByText("Nothing: it started from the prompt alone.")).toBeVisible();
});

test("an uploaded picture starts a generation, and a file that is not a picture is refused", async ({ page, request }) => {
  await setKey(page, "fal", "fal.ai", FAL_KEY);
  const project = await newProject(request, "Uploads");
  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "fal.ai" });
  await page.getByLabel("Model", { exact: true }).selectOption({ label: "FLUX.1 [dev] image-to-image" });
  await page.getByLabel("Prompt", { exact: true }).fill("a watercolour");
  // Without a picture, the launch is refused next to the picker.
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.getByText(/starts from an image: upload or paste one/)).toBeVisible();

  const upload = page.getByLabel("Upload an image");
  await upload.setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a picture") });
  await expect(page.getByText(/Use a PNG, JPEG or WebP file/)).toBeVisible();

  // A real PNG, drawn in the page.
  const picture = await page.evaluate(async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 40;
    canvas.height = 30;
    const ctx = canvas.getContext("2d")!;
    ctx.fillStyle = "#3a7";
    ctx.fillRect(0, 0, 40, 30);
    return canvas.toDataURL("image/png").split(",")[1];
  });
  await upload.setInputFiles({ name: "sketch.png", mimeType: "image/png", buffer: Buffer.from(picture, "base64") });
  const picker = page.locator("[data-input-image]");
  await expect(picker.getByRole("link", { name: /^Upload #\d+$/ })).toBeVisible();
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(status(page)).toHaveText("1 of 1 done", { timeout: 30_000 });
  await expect(results(page).getByRole("link", { name: /made from #\d+/ })).toBeVisible();
});
