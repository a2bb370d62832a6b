import { expect, test } from "@playwright/test";

import { hydrated, launchOffline, newProject, seriousViolations } from "./helpers";

for (const path of ["/", "/projects", "/generate", "/gallery", "/tags", "/compare?ids=1,2", "/queue", "/pipelines", "/characters", "/assets", "/scenes", "/wildcards", "/settings", "/no-such-page"]) {
  test(`${path} has no serious or critical accessibility violations`, async ({ page, request }) => {
    await newProject(request, "Accessible");
    await hydrated(page, path);
    expect(await seriousViolations(page)).toEqual([]);
  });
}

test("a batch's grid page has no serious or critical accessibility violations", async ({ page, request }) => {
  const project = await newProject(request, "Accessible grid");
  const batch = await launchOffline(request, project, "a {red|blue} {cat|fox}", 1);
  await hydrated(page, `/batches/${batch}/grid`);
  await expect(page.locator("[data-grid]")).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
});
