import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { expect, test, type Page } from "@playwright/test";

import { call, hydrated, newProject, projectId, seriousViolations } from "./helpers";

// Files written by `standins fixtures` in each tool's format.
const fixtures = process.env.ART_FACTORY_E2E_FIXTURES ?? "";

// Drops these fixture files on the page, as a person dragging them from a file manager does.
async function drop(page: Page, names: string[]) {
  const files = names.map((name) => ({ name, b64: readFileSync(join(fixtures, name)).toString("base64") }));
  const transfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name));
    }
    return dt;
  }, files);
  await page.dispatchEvent("main", "dragover", { dataTransfer: transfer });
  await expect(page.locator("[data-drop-hint]")).toBeVisible();
  await page.dispatchEvent("main", "drop", { dataTransfer: transfer });
}

test("pictures from three tools dropped on the gallery are imported with their prompts; others are reported", async ({ page, request }) => {
  const project = await newProject(request, "Imported");
  const id = await projectId(request, project);
  await hydrated(page, "/gallery");
  await page.getByLabel("into", { exact: true }).selectOption({ label: project });

  await drop(page, ["a1111.png", "comfyui.png", "invokeai.png", "notes.txt"]);
  const summary = page.locator("[data-import-summary]");
  await expect(summary).toContainText("4 of 4 files");
  await expect(summary).toContainText("3 imported, 0 already in, 1 not imported");
  await expect(page.locator("[data-import-progress] [role=progressbar]")).toHaveAttribute("aria-valuenow", "100");
  await page.locator("[data-import] summary").click();
  await expect(page.locator("[data-import-failures]")).toContainText("notes.txt: it is not a PNG, JPEG, WebP or OpenEXR image");
  expect(await seriousViolations(page)).toEqual([]);

  // Each one's prompt, found by search and shown in the viewer.
  for (const [words, prompt, tool] of [
    ["snow", "a red fox in the snow, BREAK soft light", "AUTOMATIC1111"],
    ["lighthouse", "a lighthouse at dusk", "ComfyUI"],
    ["castle", "a castle in the fog", "InvokeAI"],
  ]) {
    // Best match first: the search also finds near spellings ("light" for "lighthouse").
    await hydrated(page, `/gallery?q=${words}&project=${id}&sort=relevance`);
    await expect(page.locator("[data-gallery-count]")).toContainText(`matching ${words}`);
    await page.locator("#tile-0").dblclick();
    await expect(page.locator("[data-prompt]")).toHaveText(prompt);
    await expect(page.getByText(`imported: ${tool}`)).toBeVisible();
  }

  // Dropped again: nothing is added twice.
  await hydrated(page, `/gallery?project=${id}`);
  await drop(page, ["a1111.png", "comfyui.png"]);
  await expect(page.locator("[data-import-summary]")).toContainText("0 imported, 2 already in, 0 not imported");
});

test("a selection exported from the gallery downloads as a ZIP of its pictures and their metadata", async ({ page, request }) => {
  const project = await newProject(request, "Exported");
  const id = await projectId(request, project);
  await hydrated(page, "/gallery");
  await page.getByLabel("into", { exact: true }).selectOption({ label: project });
  await drop(page, ["a1111.png", "comfyui.png", "invokeai.png"]);
  await expect(page.locator("[data-import-summary]")).toContainText("3 imported");

  await hydrated(page, `/gallery?project=${id}`);
  const grid = page.locator("[data-gallery-grid]");
  await expect(grid.locator("img").first()).toBeVisible();
  await grid.focus();
  await page.keyboard.press(" ");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press(" ");
  await expect(page.locator("[data-selection]")).toHaveText("2 selected:");
  const downloading = page.waitForEvent("download");
  await page.locator("[data-export-selection]").getByRole("button", { name: "Export" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^art-factory-selection-.*\.zip$/);
  const listing = execFileSync("unzip", ["-l", await download.path()], { encoding: "utf8" });
  expect(listing).toContain("metadata.jsonl");
  expect(listing).toContain("metadata.csv");
  expect(listing.match(/Exported-[a-z0-9]+\/\d+\.png/g)?.length).toBe(2);
  const rows = execFileSync("unzip", ["-p", await download.path(), "metadata.jsonl"], { encoding: "utf8" }).trim().split("\n");
  expect(rows).toHaveLength(2);
  expect(rows.map((r) => JSON.parse(r).provider)).toEqual(expect.arrayContaining([expect.stringMatching(/^imported: /)]));
});

test("Back up now makes a backup while the app serves, and Settings shows it", async ({ page }) => {
  await hydrated(page, "/settings");
  const last = page.locator("[data-last-backup]");
  await page.getByRole("button", { name: "Back up now" }).click();
  await expect(last).toContainText(/Last backup: .* MB · .*backups\/art-factory-.*\.zip/, { timeout: 60_000 });
  expect(await seriousViolations(page)).toEqual([]);
  // The page still answers while and after it ran.
  await hydrated(page, "/gallery");
});

test("a backup with the provider keys asks for a passphrase twice, and daily backups are set in Settings", async ({ page, request }) => {
  await call(request, "settings/keys/set", { provider: "replicate", key: "r8_standin_token_0123456789" });
  await hydrated(page, "/settings");
  const section = page.locator("[data-backups]");
  await section.getByLabel("Include the provider keys, sealed under a passphrase").check();
  await section.getByLabel("Passphrase", { exact: true }).fill("too short");
  await section.getByLabel("The same passphrase again").fill("too short");
  await section.getByRole("button", { name: "Back up now" }).click();
  await expect(section.getByText(/needs at least 10 characters/)).toBeVisible();
  await section.getByLabel("Passphrase", { exact: true }).fill("a lighthouse in the fog");
  await section.getByLabel("The same passphrase again").fill("a lighthouse in the fog!");
  await section.getByRole("button", { name: "Back up now" }).click();
  await expect(section.getByText("The two passphrases differ.")).toBeVisible();
  await section.getByLabel("The same passphrase again").fill("a lighthouse in the fog");
  const before = await section.locator("[data-last-backup]").textContent();
  await section.getByRole("button", { name: "Back up now" }).click();
  await expect(section.locator("[data-last-backup]")).not.toHaveText(before ?? "", { timeout: 60_000 });
  await expect(section.getByLabel("Passphrase", { exact: true })).toHaveValue("");
  expect(await page.content()).not.toContain("r8_standin_token_0123456789");

  const schedule = page.locator("[data-backup-schedule]");
  await schedule.getByLabel("Back up every day").check();
  await schedule.getByLabel("Keep the last").fill("0");
  await schedule.getByRole("button", { name: "Save schedule" }).click();
  await expect(schedule.getByText("Keep between 1 and 365 daily backups.")).toBeVisible();
  await schedule.getByLabel("Keep the last").fill("5");
  await schedule.getByRole("button", { name: "Save schedule" }).click();
  await expect(schedule.locator("[data-schedule-status]")).toContainText(/Daily backups are on, keeping the last 5; the next is due/);
  expect(await seriousViolations(page)).toEqual([]);
  await page.reload();
  await expect(page.locator("[data-backup-schedule]").getByLabel("Back up every day")).toBeChecked();
  await page.locator("[data-backup-schedule]").getByLabel("Back up every day").uncheck();
  await page.locator("[data-backup-schedule]").getByRole("button", { name: "Save schedule" }).click();
  await expect(page.locator("[data-schedule-status]")).toContainText("Daily backups are off.");
});

test("Storage shows bytes per project, counts old rejects before trashing them, and checks the files", async ({ page, request }) => {
  const project = await newProject(request, "Stored");
  const id = await projectId(request, project);
  await hydrated(page, "/settings");
  await expect(page.locator(`[data-usage-project="${id}"]`)).toContainText(project);
  await expect(page.locator("[data-storage-place]")).toHaveText(/^Pictures are kept in the directory \/.+\.$/);
  await page.getByLabel("Rejected pictures older than (days)").fill("3650");
  await page.getByRole("button", { name: "Count them" }).click();
  await expect(page.locator("[data-reject-count]")).toHaveText("0 rejected pictures are older than 3650 days.");
  await page.getByRole("button", { name: "Check files" }).click();
  await expect(page.locator("[data-storage-check]")).toContainText("pictures whose file is missing");
  await page.getByRole("button", { name: "Empty the trash…" }).click();
  await page.getByRole("button", { name: "Keep it" }).click();
  expect(await seriousViolations(page)).toEqual([]);
});
