import { expect, test, type Page } from "@playwright/test";
import { hydrated, newProject, projectId, seriousViolations, setKey } from "./helpers";

const FAL_KEY = "standin-id:standin-secret";

const results = (page: Page) => page.getByRole("list", { name: "Results" });
const status = (page: Page) => page.locator("[data-batch-status]");

// A picture made on fal, opened from the gallery: the product page of it.
async function pictureFromTheGallery(page: Page, project: string, id: number) {
  await hydrated(page, "/generate");
  await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "fal.ai" });
  await page.getByLabel("Model", { exact: true }).selectOption({ label: "FLUX.1 [schnell]" });
  await page.getByLabel("Prompt", { exact: true }).fill("a lighthouse on a cliff");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(status(page)).toHaveText("1 of 1 done", { timeout: 30_000 });
  await hydrated(page, `/gallery?project=${id}&kind=image`);
  await page.locator("#tile-0").dblclick();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Image #\d+$/);
  return (await page.getByRole("heading", { level: 1 }).textContent())!.trim();
}

test("a gallery picture is animated on fal with progress and time left, and the video plays with its keys", async ({ page, request }) => {
  await setKey(page, "fal", "fal.ai", FAL_KEY);
  const project = await newProject(request, "Animate");
  const id = await projectId(request, project);
  const picture = await pictureFromTheGallery(page, project, id);

  // Animate: the form makes video from that picture, priced per second of output.
  await page.getByRole("link", { name: "Animate" }).click();
  await expect(page.getByLabel("Video", { exact: true })).toBeChecked();
  await expect(page.locator("[data-input-image]").getByRole("link", { name: picture })).toBeVisible();
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "fal.ai" });
  await page.getByLabel("Model", { exact: true }).selectOption({ label: "Kling 1.0 image-to-video" });
  await expect(page.locator("[data-capability]")).toHaveText("Image to video");
  await expect(page.getByLabel("Duration (s)")).toHaveValue("5");
  await page.getByLabel("Prompt", { exact: true }).fill("waves crash below, the light turns");
  await expect(page.getByText(/\$0\.0450 per second of output × 5 s/)).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole("button", { name: "Generate" }).click();

  // The job runs for seconds at the stand-in: its log's progress bar moves the bar, and the
  // time left is shown.
  const running = page.locator("[data-job-status]");
  await expect(running).toContainText(/about \d+ s left/, { timeout: 20_000 });
  const bar = page.locator("[data-job-id] [role=progressbar]");
  await expect.poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 20_000 }).toBeGreaterThan(20);
  await expect(status(page)).toHaveText("1 of 1 done", { timeout: 30_000 });
  await expect(results(page).getByRole("link", { name: `made from ${picture.replace("Image ", "")}` })).toBeVisible();
  await results(page).getByRole("link", { name: /^Video #\d+$/ }).click();

  // The video page: the original plays, seeks and steps by frame from the keyboard.
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Video #\d+$/);
  await expect(page.locator("[data-streams]")).toContainText("MP4 · h264 640×360 at 8 fps");
  await expect(page.getByRole("link", { name: `Made from ${picture}` })).toBeVisible();
  const video = page.locator("video#product-media");
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 10_000 }).toBeGreaterThan(0);
  await page.keyboard.press("Space");
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 }).toBeGreaterThan(0.1);
  await page.keyboard.press("Home");
  await page.keyboard.press(".");
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.paused)).toBe(true);
  const stepped = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
  expect(stepped).toBeGreaterThan(0.1);
  expect(stepped).toBeLessThan(0.2);
  expect(await seriousViolations(page)).toEqual([]);

  // The gallery shows it with its length, and its looping preview when pointed at.
  await hydrated(page, `/gallery?project=${id}&kind=video`);
  const tile = page.locator("#tile-0");
  await expect(tile.locator("[data-tile-duration]")).toHaveText(/0:01/);
  const img = tile.locator("img");
  await expect(img).toHaveAttribute("src", /-(256|768)\.webp$/);
  await img.hover();
  await expect(img).toHaveAttribute("src", /-preview\.webp$/);
  expect(await seriousViolations(page)).toEqual([]);
});

test("a picture is scored offline, and the sound's waveform is scrubbed and played in the gallery", async ({ page, request }) => {
  await setKey(page, "fal", "fal.ai", FAL_KEY);
  const project = await newProject(request, "Score");
  const id = await projectId(request, project);
  const picture = await pictureFromTheGallery(page, project, id);

  // Score: a sound made for the picture, starting from its prompt.
  await page.getByRole("link", { name: "Score" }).click();
  await expect(page.getByLabel("Sound", { exact: true })).toBeChecked();
  await expect(page.locator("[data-made-for]")).toContainText(picture.replace("Image ", ""));
  await expect(page.getByLabel("Prompt", { exact: true })).toHaveValue("a lighthouse on a cliff");
  await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Offline procedural" });
  await expect(page.getByLabel("Model", { exact: true }).locator("option:checked")).toHaveText("Tones");
  await page.getByLabel("Duration (s)").fill("6");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(status(page)).toHaveText("1 of 1 done", { timeout: 30_000 });
  await results(page).getByRole("link", { name: /^Sound #\d+$/ }).click();

  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Sound #\d+$/);
  await expect(page.locator("[data-duration]")).toHaveText("6.0 s");
  await expect(page.locator("[data-streams]")).toContainText("WAV · pcm_s16le 32 kHz mono");
  await expect(page.getByRole("link", { name: `Made from ${picture}` })).toBeVisible();
  // Scrubbing: a click three quarters along the waveform moves the sound there.
  const waveform = page.getByRole("slider", { name: /Position in Sound/ });
  const audio = page.locator("audio#product-media");
  await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.duration), { timeout: 10_000 }).toBeGreaterThan(5);
  const box = (await waveform.boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
  await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime)).toBeGreaterThan(4.2);
  await expect(waveform).toHaveAttribute("aria-valuetext", /^0:0[45] of 0:06$/);
  const playhead = await page.locator("[data-playhead]").getAttribute("style");
  expect(playhead).toMatch(/left: 7\d\./);
  // ← seeks back five seconds.
  await page.keyboard.press("ArrowLeft");
  await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime)).toBeLessThan(1);
  expect(await seriousViolations(page)).toEqual([]);

  // In the gallery, the sound's tile shows its waveform and plays in place.
  await hydrated(page, `/gallery?project=${id}&kind=audio&max_secs=10`);
  const tile = page.locator("#tile-0");
  await expect(tile.locator("[data-tile-duration]")).toHaveText(/0:06/);
  await tile.getByRole("button", { name: "Play the sound" }).click();
  await expect(tile.getByRole("button", { name: "Pause the sound" })).toBeVisible();
  await expect.poll(() => tile.locator("audio").evaluate((a: HTMLAudioElement) => a.currentTime)).toBeGreaterThan(0);
  await tile.getByRole("button", { name: "Pause the sound" }).click();
  // Longer than ten seconds: nothing.
  await hydrated(page, `/gallery?project=${id}&kind=audio&min_secs=10`);
  await expect(page.locator("#tile-0 img")).toHaveCount(0);
  expect(await seriousViolations(page)).toEqual([]);
});
