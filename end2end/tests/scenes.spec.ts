import { join } from "node:path";

import { expect, test } from "@playwright/test";

import { hydrated, newProject, projectId, seriousViolations } from "./helpers";

const models = process.env.ART_FACTORY_E2E_MODELS ?? "";

test("place a model in a scene with a light and a camera, render it with both engines, find the renders", async ({ page, request }) => {
  test.setTimeout(240_000);
  const project = await newProject(request, "Stage");
  const id = await projectId(request, project);

  // A model first.
  await hydrated(page, `/assets?project=${id}`);
  await page.getByLabel("Choose files").setInputFiles(join(models, "textured/textured.glb"));
  await expect(page.locator("#asset-upload-status")).toContainText("Stored “textured”");

  // A new scene starts with a sun and a camera.
  await hydrated(page, `/scenes?project=${id}`);
  await expect(page.getByText("No scenes in this project yet.")).toBeVisible();
  await page.getByLabel("New scene's name").fill("Still life");
  await page.getByRole("button", { name: "Create scene" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Still life" })).toBeVisible();
  await expect(page.getByRole("group", { name: "Camera “camera”" })).toBeVisible();
  const preview = page.locator("#scene-preview");
  await expect(preview).toHaveAttribute("src", /^data:image\/png;base64,/);
  const empty = await preview.getAttribute("src");

  // Place the model, lift it, add a light: the preview follows the draft.
  await page.getByRole("button", { name: "Add model" }).click();
  const model = page.getByRole("group", { name: "Model “model 1”" });
  await expect(model.getByLabel("3D asset")).toHaveValue(/\d+/);
  await model.getByRole("group", { name: "Position (m)" }).getByLabel("Y").fill("0.5");
  await page.getByRole("button", { name: "Add light" }).click();
  const light = page.getByRole("group", { name: "Light “light 1”" });
  await light.getByLabel("Type").selectOption("spot");
  await expect(page.getByRole("group", { name: "Light “light 1”" }).getByLabel("No light past (degrees)")).toBeVisible();
  await expect.poll(() => preview.getAttribute("src"), { timeout: 15_000 }).not.toBe(empty);
  await expect(page.locator("#scene-status")).toContainText("Unsaved changes.");

  // Two nodes of one name: not saved, and said where.
  await page.getByRole("group", { name: "Light “light 1”" }).getByLabel("Name").fill("sun");
  await page.getByRole("group", { name: "Light “light 1”" }).getByLabel("Name").blur();
  await page.getByRole("button", { name: "Save scene" }).click();
  const problems = page.getByRole("list", { name: "Problems in the scene" });
  await expect(problems).toContainText("another node is named “sun”");
  await page.getByRole("group", { name: "Light “light 1”" }).getByLabel("Name").fill("key");
  await page.getByRole("group", { name: "Light “light 1”" }).getByLabel("Name").blur();
  await page.getByRole("button", { name: "Save scene" }).click();
  await expect(page.locator("#scene-status")).toContainText("Saved (revision 2).");
  await expect(problems).toHaveCount(0);

  // The saved scene turns in the 3D view (one GLB from the app).
  const viewer = page.locator("model-viewer");
  await expect(viewer).toHaveAttribute("src", /export\.glb\?revision=2$/);
  await viewer.scrollIntoViewIfNeeded();
  await expect.poll(() => viewer.evaluate((v: HTMLElement & { loaded?: boolean }) => v.loaded === true), { timeout: 20_000 }).toBe(true);
  expect(await seriousViolations(page)).toEqual([]);

  // The built-in engine.
  await page.getByLabel("Width (px)").fill("256");
  await page.getByLabel("Height (px)").fill("192");
  await page.getByRole("button", { name: "Render", exact: true }).click();
  const jobs = page.getByRole("list", { name: "Render jobs" });
  await expect(jobs.locator('[data-state="succeeded"]')).toHaveCount(1, { timeout: 60_000 });
  await expect(jobs.getByRole("img").first()).toBeVisible();

  // Blender: Cycles on the CPU, its progress shown while it renders.
  await expect(page.locator('[data-engine="blender"]')).not.toContainText("unavailable");
  await page.getByLabel("Engine", { exact: true }).selectOption("blender");
  await page.getByLabel(/Samples/).fill("16");
  // OpenEXR, which only Blender writes: linear light for compositing.
  await page.getByLabel("Format").selectOption("exr");
  await page.getByRole("button", { name: "Render", exact: true }).click();
  await expect(jobs.locator('[data-state="succeeded"]')).toHaveCount(2, { timeout: 180_000 });
  await expect(jobs.locator("li").first()).toContainText("Blender");
  await expect(jobs.locator("li").first().getByRole("img")).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);

  // Each render is in the gallery, linked to its scene; the OpenEXR is shown by its sRGB
  // preview, and its original is what is downloaded.
  await jobs.locator("li").first().getByRole("link").first().click();
  await expect(page.getByRole("link", { name: "the scene “Still life”" })).toBeVisible();
  await expect(page.locator("[data-format]")).toContainText("OpenEXR");
  const shown = page.locator('img[src$="-768.webp"]').first();
  await expect.poll(() => shown.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  await expect(page.getByRole("link", { name: "Download original" })).toHaveAttribute("href", /\.exr$/);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole("link", { name: "the scene “Still life”" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Still life" })).toBeVisible();
});
