import { readFileSync } from "node:fs";

import { expect, test } from "@playwright/test";

import { hydrated, newProject, projectId, seriousViolations } from "./helpers";

test("generate a character, lock the class, reroll, change the class, make portraits and export the sheet", async ({ page, request }) => {
  const project = await newProject(request, "Characters");
  const id = await projectId(request, project);
  await hydrated(page, `/characters?project=${id}`);
  await expect(page.getByText("No characters in this project yet.")).toBeVisible();
  await expect(page.locator("[data-attribution]")).toContainText("SRD 5.1");

  // A level-3 wizard from seed 42.
  await page.getByLabel("Seed").fill("42");
  await page.getByLabel("Class").selectOption({ label: "Wizard" });
  await page.getByLabel("Level").selectOption("3");
  await page.getByRole("button", { name: "Generate character" }).click();
  const line = page.locator("[data-character-line]");
  await expect(line).toContainText("Level 3");
  await expect(line).toContainText("Wizard");
  const seed = page.locator("[data-character-seed]");
  await expect(seed).toContainText("Seed 42");
  await expect(page.locator("[data-slots]")).toHaveText("level 1: 4, level 2: 2");
  await expect(page.locator("[data-roll-log] tbody tr").first()).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);

  // Lock the class (kept with the character), then reroll by keyboard: a new seed, the same class.
  const classLock = page.getByRole("checkbox", { name: "Class" });
  await classLock.check();
  await expect(classLock).toBeChecked();
  const reroll = page.getByRole("button", { name: "Reroll unlocked" });
  await expect(reroll).toBeEnabled();
  await reroll.focus();
  await page.keyboard.press("Enter");
  await expect(seed).not.toContainText("Seed 42 ");
  await expect(line).toContainText("Wizard");
  const rerolled = (await seed.textContent())!;

  // Changing the locked class keeps the seed; only what derives from the class changes.
  await expect(reroll).toBeEnabled();
  await page.getByRole("combobox", { name: "Class" }).selectOption({ label: "Cleric" });
  await expect(line).toContainText("Cleric");
  await expect(seed).toHaveText(rerolled);
  // The name was not locked: the reroll drew a new one, which the class change kept.
  const name = (await page.locator("[data-character-name]").textContent())!;

  // A portrait on the offline generator, then a new outfit: the same seed, other clothes.
  await page.getByRole("button", { name: "Portrait", exact: true }).click();
  const status = page.locator("[data-portrait-status]");
  await expect(status).toContainText("Queued as batch");
  const first = (await status.textContent())!;
  await expect(page.locator("[data-portrait] img")).toHaveCount(1, { timeout: 60_000 });
  await page.getByRole("button", { name: "New outfit" }).click();
  await expect(status).not.toHaveText(first);
  const outfit = (await status.textContent())!;
  const seedOf = (text: string) => /\(seed (\d+)\)/.exec(text)![1];
  expect(seedOf(outfit)).toBe(seedOf(first));
  expect(outfit).not.toBe(first);
  await expect(page.locator("[data-portrait] img")).toHaveCount(2, { timeout: 60_000 });
  await expect.poll(() => page.locator("[data-portrait] img").first().evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(0);
  expect(await seriousViolations(page)).toEqual([]);

  // Export: a PDF and the JSON sheet.
  const [pdf] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download PDF" }).click()]);
  expect(pdf.suggestedFilename()).toMatch(/\.pdf$/);
  expect(readFileSync((await pdf.path())!).subarray(0, 5).toString()).toBe("%PDF-");
  const [json] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download JSON" }).click()]);
  const sheet = JSON.parse(readFileSync((await json.path())!, "utf8"));
  expect(sheet.name).toBe(name);
  expect(sheet.class).toBe("cleric");

  // Open the portrait: its product page names the character and links back.
  await page.locator("[data-portrait]").first().click();
  const sitter = page.getByRole("link", { name });
  await expect(sitter).toBeVisible();
  await sitter.click();
  await expect(page.locator("[data-character-name]")).toHaveText(name);

  // The list finds it by part of its name; a party of three joins it.
  await hydrated(page, `/characters?project=${id}`);
  await page.getByLabel("Search by name").fill(name.slice(0, 4));
  await expect(page.getByRole("link", { name })).toBeVisible();
  await page.getByLabel("Search by name").fill("zzzz");
  await expect(page.getByText("No character's name holds that.")).toBeVisible();
  await page.getByLabel("Search by name").fill("");
  await page.getByLabel("Party size").fill("3");
  await page.getByRole("button", { name: "Generate party" }).click();
  await expect(page.getByRole("list", { name: "Characters" }).getByRole("listitem")).toHaveCount(4);
});
