import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { expect, test, type Page } from "@playwright/test";

import { call, hydrated, newProject } from "./helpers";

// axe-core, from npm, injected into each page: no CDN.
const axeSource = readFileSync(createRequire(__filename).resolve("axe-core/axe.min.js"), "utf8");

// Runs axe on the page as it is and lists the serious and critical violations, each with the
// elements it found them on.
async function seriousViolations(page: Page): Promise<string[]> {
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

for (const path of ["/", "/projects", "/generate", "/queue", "/wildcards", "/settings", "/no-such-page"]) {
  test(`${path} has no serious or critical accessibility violations`, async ({ page, request }) => {
    await newProject(request, "Accessible");
    await hydrated(page, path);
    expect(await seriousViolations(page)).toEqual([]);
  });
}

test("a batch's grid page has no serious or critical accessibility violations", async ({ page, request }) => {
  const project = await newProject(request, "Accessible grid");
  const projects = await call(request, "projects/list", { archived: "false" });
  const id = projects.find((p: { name: string }) => p.name === project).id;
  const launched = await call(request, "generate/launch", {
    "form[project_id]": String(id),
    "form[provider]": "local",
    "form[model]": "aurora",
    "form[prompt]": "a {red|blue} {cat|fox}",
    "form[negative_prompt]": "",
    "form[params]": JSON.stringify({ width: 64, height: 64 }),
    "form[count]": "1",
    "form[seed_mode]": "derived",
    "form[mode]": "combinatorial",
  });
  await hydrated(page, `/batches/${launched.batch_id}/grid`);
  await expect(page.locator("[data-grid]")).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
});
