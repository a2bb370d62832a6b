import { expect, test } from "@playwright/test";

import { call, hydrated, newProject, seriousViolations } from "./helpers";

for (const path of ["/", "/projects", "/generate", "/gallery", "/tags", "/compare?ids=1,2", "/queue", "/wildcards", "/settings", "/no-such-page"]) {
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
