import { readFileSync } from "node:fs";
import { join } from "node:path";

import { expect, test } from "@playwright/test";

import { hydrated, newProject, projectId, seriousViolations } from "./helpers";

// Models written by `standins models` (factory::testing::gltf_cases), one folder per case.
const models = process.env.ART_FACTORY_E2E_MODELS ?? "";

test("drop models in, see their previews, counts and problems, and turn one in the 3D view", async ({ page, request }) => {
  const project = await newProject(request, "Props");
  const id = await projectId(request, project);
  await hydrated(page, `/assets?project=${id}`);
  await expect(page.getByText("No models in this project yet.")).toBeVisible();
  const picker = page.getByLabel("Choose files");
  const status = page.locator("#asset-upload-status");

  // A GLB, chosen with the file picker.
  await picker.setInputFiles(join(models, "textured/textured.glb"));
  await expect(status).toContainText("Stored “textured”: 192 triangles");
  const tile = page.getByRole("img", { name: "Preview of textured" });
  await expect(tile).toBeVisible();
  await expect.poll(() => tile.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);

  // A .gltf with its .bin and texture, as three files.
  await picker.setInputFiles([
    join(models, "separate-files/model.gltf"),
    join(models, "separate-files/model data.bin"),
    join(models, "separate-files/textures/pattern.png"),
  ]);
  await expect(status).toContainText("Stored “model”");

  // A model with an index past its vertices: refused, with where and what.
  await picker.setInputFiles(join(models, "index-out-of-range/model.glb"));
  const problems = page.getByRole("list", { name: "Problems in the model" });
  await expect(problems).toContainText("/accessors/3");
  await expect(problems).toContainText("ACCESSOR_INDEX_OOB");

  // Dropped on the zone, as a file manager would.
  const bytes = readFileSync(join(models, "three-instances/three.glb")).toString("base64");
  await page.evaluate((b64) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([data], "three.glb", { type: "model/gltf-binary" }));
    const zone = document.querySelector("#asset-files")!.parentElement!;
    zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, bytes);
  await expect(status).toContainText("Stored “three”");
  await expect(page.getByRole("list", { name: "Assets" }).getByRole("listitem")).toHaveCount(3);
  expect(await seriousViolations(page)).toEqual([]);

  // The asset page: the 3D view loads the GLB from the app; counts, size and the report show.
  const glb = page.waitForResponse((r) => r.url().endsWith(".glb") && r.status() === 200);
  await page.getByRole("link", { name: /^Preview of three\b/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: "three" })).toBeVisible();
  expect((await glb).headers()["content-type"]).toBe("model/gltf-binary");
  const facts = page.getByRole("table", { name: "Model facts" });
  await expect(facts.getByRole("row", { name: /Triangles \(each mesh once\)/ })).toContainText("192");
  await expect(facts.getByRole("row", { name: /Mesh instances in the scene/ })).toContainText("3");
  await expect(facts.getByRole("row", { name: /Size/ })).toContainText("7.000 m × 2.000 m × 2.000 m");
  await expect(page.getByText("No problems found.")).toBeVisible();
  const viewer = page.locator("model-viewer");
  await expect(viewer).toHaveAttribute("src", /\.glb$/);
  await expect.poll(() => viewer.evaluate((v: HTMLElement & { loaded?: boolean }) => v.loaded === true), { timeout: 20_000 }).toBe(true);
  expect(await seriousViolations(page)).toEqual([]);

  // Its gallery product shows the rendered preview and links back.
  await page.getByRole("link", { name: "In the gallery" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /3D model #/ })).toBeVisible();
  await expect(page.locator("[data-viewer-image]")).toHaveAttribute("src", /-768\.webp$/);
  await expect(page.getByRole("link", { name: /three \(3D view/ })).toBeVisible();
});
