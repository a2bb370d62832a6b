import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect, test } from "@playwright/test";

import { seriousViolations } from "./helpers";

// A second server of its own, with a password set the way a person sets it.
const bin = process.env.ART_FACTORY_E2E_BIN ?? "";
const siteRoot = process.env.ART_FACTORY_E2E_SITE_ROOT ?? "";
const PASSWORD = "the heron waits at dawn";

test("with a password set, a browser is sent to sign in, signs in, and signs out", async ({ browser }) => {
  test.skip(!bin, "needs ART_FACTORY_E2E_BIN (scripts/test sets it)");
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), "art-factory-signin-"));
  // As root, the PostgreSQL user must be able to enter it.
  chmodSync(dir, 0o755);
  const common = ["--data-dir", dir, "--data-key-store", "file"];
  execFileSync(bin, ["set-password", ...common], { input: `${PASSWORD}\n${PASSWORD}\n` });
  const server = spawn(bin, ["serve", ...common, "--listen", "127.0.0.1:0", "--site-root", siteRoot], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout.on("data", (chunk: Buffer) => {
        const found = /Art Factory is running at (\S+)/.exec(chunk.toString());
        if (found) resolve(found[1]);
      });
      server.on("exit", (code) => reject(new Error(`the server exited (${code})`)));
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/gallery`);
    await expect(page).toHaveURL(/\/login\?next=\/gallery$/);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel("Password").fill("not the password");
    await page.getByLabel("Password").press("Enter");
    await expect(page.getByRole("alert")).toHaveText("That is not the password.");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/gallery$/);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "af_session");
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Strict");

    await page.goto(`${url}/settings`);
    await page.getByRole("button", { name: "Sign out everywhere" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto(`${url}/settings`);
    await expect(page).toHaveURL(/\/login\?next=\/settings$/);
    await context.close();
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => (server.exitCode !== null ? resolve(null) : server.on("exit", resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
});
