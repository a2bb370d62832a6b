import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { expect, type APIRequestContext, type Page } from "@playwright/test";

// Opens `path` and waits until the browser app has taken over the server-rendered page.
export async function hydrated(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

// Server functions take form-encoded arguments, like the browser app sends them.
export async function call(request: APIRequestContext, endpoint: string, form: Record<string, string>) {
  const response = await request.post(`/api/${endpoint}`, { form, headers: { accept: "application/json" } });
  expect(response.ok(), `${endpoint}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

// A project with a name no other test run uses.
export async function newProject(request: APIRequestContext, name: string) {
  const unique = `${name} ${Date.now().toString(36)}`;
  await call(request, "projects/create", { name: unique, description: "" });
  return unique;
}

// axe-core, from npm, injected into each page: no CDN.
const axeSource = readFileSync(createRequire(__filename).resolve("axe-core/axe.min.js"), "utf8");

// Runs axe on the page as it is and lists the serious and critical violations, each with the
// elements it found them on.
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate(async () => {
    // @ts-expect-error injected above
    const report = await window.axe.run(document);
    return report.violations.map((v: { id: string; impact: string; nodes: { target: string[] }[] }) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
  return results
    .filter((v: { impact: string }) => v.impact === "serious" || v.impact === "critical")
    .map((v: { id: string; targets: string[] }) => `${v.id}: ${v.targets.join(", ")}`);
}


// Sets a provider's key on the Settings page and waits until it is in force.
export async function setKey(page: Page, provider: string, name: string, key: string) {
  await hydrated(page, "/settings");
  const card = page.locator(`[data-provider="${provider}"]`);
  await card.getByLabel(new RegExp(`key for ${name}`, "i")).fill(key);
  await card.getByRole("button", { name: "Test and save" }).click();
  await expect(card.locator("[data-key-status]")).toContainText("Set in app");
}

// Opens a batch's row on the Queue page (active batches on a short page open by themselves)
// and returns the row.
export async function openBatch(page: Page, batch: string) {
  const row = page.locator(`[data-batch-row="${batch}"]`);
  const toggle = row.locator("button[aria-expanded]");
  await expect(toggle).toBeVisible();
  if ((await toggle.getAttribute("aria-expanded")) === "false") {
    await toggle.click();
  }
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  return row;
}

// The id of the project named `name`.
export async function projectId(request: APIRequestContext, name: string): Promise<number> {
  const projects = await call(request, "projects/list", { archived: "false" });
  return projects.find((p: { name: string }) => p.name === name).id;
}

// Launches a batch on the offline generator through the server function; returns its id.
export async function launchOffline(request: APIRequestContext, project: string, prompt: string, count: number) {
  const id = await projectId(request, project);
  const launched = await call(request, "generate/launch", {
    "form[project_id]": String(id),
    "form[provider]": "local",
    "form[model]": "aurora",
    "form[prompt]": prompt,
    "form[negative_prompt]": "",
    "form[params]": JSON.stringify({ width: 64, height: 64 }),
    "form[count]": String(count),
    "form[seed_mode]": "derived",
    "form[mode]": "combinatorial",
    "form[confirmed]": "true",
  });
  return String(launched.batch_id);
}
