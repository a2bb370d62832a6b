import { expect, test } from "@playwright/test";

import { hydrated, seriousViolations } from "./helpers";

test("an API token made in Settings is shown once, lets a script in, and is refused once revoked", async ({ page, request }) => {
  await hydrated(page, "/settings");
  const panel = page.locator("[data-api-tokens]");
  const name = `e2e script ${Date.now().toString(36)}`;
  // By keyboard: type the name, pick the access, Enter makes it.
  await panel.getByLabel("Name").fill(name);
  await panel.getByLabel("Access").selectOption("full");
  await panel.getByLabel("Name").press("Enter");
  const shown = panel.locator("[data-new-token] input");
  await expect(shown).toHaveValue(/^aft_[A-Za-z0-9_-]{43}$/);
  const token = await shown.inputValue();
  expect(await seriousViolations(page)).toEqual([]);

  const made = await request.post("/api/v1/projects", {
    headers: { authorization: `Bearer ${token}` },
    data: { name: `Made by ${name}` },
  });
  expect(made.status(), await made.text()).toBe(201);

  // Listed by name and last four characters, with its last use; never shown again.
  await hydrated(page, "/settings");
  const row = panel.locator(`[data-token="${name}"]`);
  await expect(row).toContainText("Full access");
  await expect(row).toContainText(token.slice(-4));
  await expect(row).not.toContainText("Never");
  expect(await page.content()).not.toContain(token);

  await row.getByRole("button", { name: "Revoke" }).click();
  await row.getByRole("button", { name: `Revoke “${name}” now` }).click();
  await expect(panel.locator(`[data-token="${name}"]`)).toHaveCount(0);
  const refused = await request.get("/api/v1/projects", { headers: { authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(401);
  expect(refused.headers()["content-type"]).toBe("application/problem+json");
});

test("the API reference at /api/v1/docs/ is served by the app itself, with nothing from elsewhere", async ({ page, baseURL }) => {
  const foreign: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(baseURL ?? "") && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  await page.goto("/api/v1/docs/");
  await expect(page.getByRole("heading", { name: /Art Factory/ })).toBeVisible();
  await expect(page.getByText("/api/v1/launches").first()).toBeVisible();
  expect(foreign).toEqual([]);
});
