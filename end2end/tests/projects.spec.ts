import { expect, test, type Page } from "@playwright/test";

// Clicks only work once the browser app has taken over the server-rendered page.
async function openProjects(page: Page) {
  await page.goto("/");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

function unique(name: string) {
  return `${name} ${Date.now().toString(36)}`;
}

test("a project can be created, renamed, and is still there after a reload", async ({ page }) => {
  await openProjects(page);
  const name = unique("Neon Cats");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Description (optional)").fill("Cats, in neon.");
  await page.getByRole("button", { name: "Create project" }).click();

  const list = page.getByRole("list", { name: "Project list" });
  await expect(list.getByRole("heading", { name })).toBeVisible();
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("");

  const renamed = unique("Glowing Cats");
  await page.getByRole("button", { name: `Rename ${name}` }).click();
  const input = page.getByLabel("New name");
  await expect(input).toBeFocused();
  await input.fill(renamed);
  await page.getByRole("button", { name: "Save name" }).click();
  await expect(list.getByRole("heading", { name: renamed })).toBeVisible();
  await expect(list.getByRole("heading", { name })).toHaveCount(0);

  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(list.getByRole("heading", { name: renamed })).toBeVisible();
  await expect(list.getByText("Cats, in neon.").first()).toBeVisible();
});

test("an empty name shows an error next to the field and creates nothing", async ({ page }) => {
  await openProjects(page);
  const before = await page.locator("[data-project-id]").count();
  const field = page.getByLabel("Name", { exact: true });
  await field.fill("   ");
  await page.getByRole("button", { name: "Create project" }).click();

  await expect(page.locator("#new-project-name-error")).toHaveText("A project needs a name.");
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await page.reload();
  await expect(page.locator("[data-project-id]")).toHaveCount(before);
});

test("a project can be archived, found under Archived, and restored", async ({ page }) => {
  await openProjects(page);
  const name = unique("Old Sketches");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("button", { name: `Archive ${name}` }).click();
  await expect(page.getByRole("heading", { name })).toHaveCount(0);

  await page.getByRole("link", { name: "Archived" }).click();
  await expect(page.getByRole("heading", { name })).toBeVisible();
  await page.getByRole("button", { name: `Unarchive ${name}` }).click();
  await expect(page.getByRole("heading", { name })).toHaveCount(0);

  await page.getByRole("link", { name: "Active" }).click();
  await expect(page.getByRole("heading", { name })).toBeVisible();
});

test("the create form is reachable with the keyboard in reading order", async ({ page }) => {
  await openProjects(page);
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  const order: string[] = [];
  // Past the skip link, the header's links (one per page, and the queue indicator), then the form.
  // Enough presses to pass every header link however many pages there are.
  for (let i = 0; i < 24; i++) {
    await page.keyboard.press("Tab");
    order.push(
      await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        return el.id || el.textContent?.trim() || el.tagName;
      }),
    );
  }
  const name = order.indexOf("new-project-name");
  const description = order.indexOf("new-project-description");
  const create = order.indexOf("Create project");
  expect(name).toBeGreaterThan(-1);
  expect(description).toBe(name + 1);
  expect(create).toBe(description + 1);

  // Typing a name and pressing Enter creates the project, no mouse involved.
  const project = unique("Keyboard Only");
  await page.locator("#new-project-name").focus();
  await page.keyboard.type(project);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("list", { name: "Project list" }).getByRole("heading", { name: project })).toBeVisible();
});
