import { expect, test } from "@playwright/test";
import { call, hydrated, newProject } from "./helpers";

test("a prompt with two variant groups previews 6 items, makes 6 images and a 2×3 grid", async ({ page, request }) => {
  const project = await newProject(request, "Animals");
  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Offline procedural" });
  await page.getByLabel("Width").fill("128");
  await page.getByLabel("Height").fill("128");
  await page.getByLabel("Prompt", { exact: true }).fill("a {red|blue} {cat|fox|owl}");

  const preview = page.locator("[data-prompt-preview]");
  await expect(preview.locator("[data-item-count]")).toHaveText("6 items");
  await expect(preview.locator("[data-example]")).toHaveText([
    "a red cat",
    "a red fox",
    "a red owl",
    "a blue cat",
    "a blue fox",
  ]);

  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.locator("[data-batch-status]")).toHaveText("6 of 6 done", { timeout: 60_000 });
  await expect(page.getByRole("list", { name: "Results" }).getByRole("img")).toHaveCount(6);

  await page.getByRole("link", { name: "Open as grid" }).click();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Columns (x)").selectOption({ label: "{cat|fox|owl}" });
  await page.getByLabel("Rows (y)").selectOption({ label: "{red|blue}" });
  const grid = page.locator("table[data-grid]");
  await expect(grid).toHaveAttribute("data-rows", "2");
  await expect(grid).toHaveAttribute("data-columns", "3");
  await expect(grid.locator("[data-column]")).toHaveText(["cat", "fox", "owl"]);
  await expect(grid.locator("[data-row]")).toHaveText(["red", "blue"]);
  await expect(grid.locator("td[data-cell] img")).toHaveCount(6);
  await expect(grid.locator("td[data-cell]").nth(5).locator("img")).toHaveAttribute("alt", "a blue owl");

  const download = page.getByRole("link", { name: "Download PNG" });
  const href = await download.getAttribute("href");
  const png = await request.get(href!);
  expect(png.headers()["content-type"]).toBe("image/png");
  expect((await png.body()).subarray(1, 4).toString()).toBe("PNG");
});

test("a broken prompt shows where it is wrong and cannot be launched", async ({ page, request }) => {
  const project = await newProject(request, "Broken");
  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Offline procedural" });
  await page.getByLabel("Prompt", { exact: true }).fill("a {red|blue cat");
  await expect(page.locator("[data-prompt-error]")).toHaveText(
    "Line 1, column 16: expected `|` or `}` to close the `{` opened at line 1, column 3",
  );
  await expect(page.getByRole("button", { name: "Generate" })).toBeDisabled();
  await page.getByLabel("Prompt", { exact: true }).press("Control+Enter");
  await expect(page.locator("#gen-prompt-error")).toContainText("line 1, column 16");
  await expect(page.locator("[data-batch-id]")).toHaveCount(0);
});

test("a wildcard list made on the Wildcards page expands in the preview, and a template fills the form", async ({ page, request }) => {
  const project = await newProject(request, "Wild");
  const name = `weather${Date.now().toString(36)}`;
  await hydrated(page, "/wildcards");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Values, one per line").fill("# kinds of sky\nrain\n\nsnow\n");
  await page.getByRole("button", { name: "Save list" }).click();
  await expect(page.locator(`[data-wildcard="${name}"]`)).toHaveText(`__${name}__ · 2`);

  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Offline procedural" });
  await page.getByLabel("Prompt", { exact: true }).fill(`a fox in the __${name}__`);
  await expect(page.locator("[data-item-count]")).toHaveText("2 items");
  await expect(page.locator("[data-example]")).toHaveText(["a fox in the rain", "a fox in the snow"]);

  const template = `Foxes ${Date.now().toString(36)}`;
  await page.getByLabel("Save this form as").fill(template);
  await page.getByRole("button", { name: "Save template" }).click();
  const row = page.locator(`[data-template="${template}"]`);
  await expect(row).toBeVisible();

  await page.getByLabel("Prompt", { exact: true }).fill("something else");
  await row.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByLabel("Prompt", { exact: true })).toHaveValue(`a fox in the __${name}__`);
  await expect(page.locator("[data-batch-id]")).toHaveCount(0);
});
