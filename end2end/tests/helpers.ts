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
