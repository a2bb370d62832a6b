import { expect, test } from "@playwright/test";
import { hydrated, newProject, seriousViolations } from "./helpers";

// ComfyUI's default text-to-image workflow, exported in its API format; the server the tests
// start points --comfyui-url at the stand-in (factory::testing::comfyui_standin).
const WORKFLOW = {
  "3": { class_type: "KSampler", _meta: { title: "KSampler" },
         inputs: { seed: 156680208700286, steps: 6, cfg: 8.0, sampler_name: "euler", scheduler: "normal",
                   denoise: 1.0, model: ["4", 0], positive: ["6", 0], negative: ["7", 0], latent_image: ["5", 0] } },
  "4": { class_type: "CheckpointLoaderSimple", _meta: { title: "Load Checkpoint" },
         inputs: { ckpt_name: "v1-5-pruned-emaonly.safetensors" } },
  "5": { class_type: "EmptyLatentImage", _meta: { title: "Empty Latent Image" },
         inputs: { width: 128, height: 128, batch_size: 1 } },
  "6": { class_type: "CLIPTextEncode", _meta: { title: "Positive" }, inputs: { text: "a bottle", clip: ["4", 1] } },
  "7": { class_type: "CLIPTextEncode", _meta: { title: "Negative" }, inputs: { text: "watermark", clip: ["4", 1] } },
  "8": { class_type: "VAEDecode", _meta: { title: "VAE Decode" }, inputs: { samples: ["3", 0], vae: ["4", 2] } },
  "9": { class_type: "SaveImage", _meta: { title: "Save Image" }, inputs: { filename_prefix: "ComfyUI", images: ["8", 0] } },
};

test("a ComfyUI workflow imported in Settings, its checkpoint marked as a parameter, generates from the Generate form", async ({ page, request }) => {
  await hydrated(page, "/settings");
  const plugins = page.locator("[data-plugins]");
  await expect(plugins.locator("[data-plugins-enabled]")).toContainText("ComfyUI at http://127.0.0.1:");

  // The editor's own save format is refused with what to do instead.
  await plugins.getByLabel("Workflow in API format (JSON)").fill(JSON.stringify({ nodes: [], links: [] }));
  await plugins.getByRole("button", { name: "Read its inputs" }).click();
  await expect(plugins.locator("[data-workflow-error]")).toContainText("Export (API)");

  await plugins.getByLabel("Workflow name").fill("Basic e2e");
  await plugins.getByLabel("Workflow in API format (JSON)").fill(JSON.stringify(WORKFLOW));
  await plugins.getByRole("button", { name: "Read its inputs" }).click();
  const inputs = plugins.locator("[data-workflow-inputs]");
  await expect(inputs).toBeVisible();
  // The sampler's positive text is suggested as the prompt, its seed as the seed.
  await expect(inputs.locator('[data-workflow-input="wf-6-text"] select')).toHaveValue("prompt");
  await expect(inputs.locator('[data-workflow-input="wf-3-seed"] select')).toHaveValue("seed");
  // The checkpoint becomes a parameter of the form, by keyboard.
  const checkpoint = inputs.locator('[data-workflow-input="wf-4-ckpt_name"] select');
  await checkpoint.focus();
  await checkpoint.selectOption("param");
  await plugins.getByLabel("Parameter name for ckpt_name of node 4").fill("checkpoint");
  await plugins.getByLabel("Label for ckpt_name of node 4").fill("Checkpoint");
  expect(await seriousViolations(page)).toEqual([]);
  await plugins.getByRole("button", { name: "Import workflow" }).click();
  await expect(plugins.locator("[data-plugins-message]")).toHaveText("Workflow imported.");
  await expect(plugins.locator('[data-workflow="Basic e2e"]')).toContainText("parameter checkpoint (Checkpoint)");

  const project = await newProject(request, "ComfyUI");
  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "ComfyUI" });
  await page.getByLabel("Model", { exact: true }).selectOption({ label: "Basic e2e" });
  // The server's catalog types the checkpoint as a choice of its files.
  await page.getByLabel("Checkpoint", { exact: true }).selectOption("dreamshaper_8.safetensors");
  await page.getByLabel("Prompt", { exact: true }).fill("a {red|blue} bottle on a shelf");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.locator("[data-batch-status]")).toHaveText("2 of 2 done", { timeout: 30_000 });
  await expect(page.getByRole("list", { name: "Results" }).getByRole("img")).toHaveCount(2);
});
