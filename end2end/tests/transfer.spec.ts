import { expect, test, type Page } from "@playwright/test";

// What a first and a repeat visit of the gallery transfer over the network, as Chromium counts
// it (encoded bytes, headers included), by kind. Printed as a table; the checks are on how the
// app serves itself, never on times.

type Seen = { url: string; kind: string; bytes: number; encoding: string; cache: string; cached: boolean };

async function visit(page: Page, path: string): Promise<Seen[]> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const responses = new Map<string, Omit<Seen, "bytes">>();
  const seen: Seen[] = [];
  cdp.on("Network.responseReceived", (e) => {
    const headers = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    responses.set(e.requestId, {
      url: e.response.url,
      kind: e.type,
      encoding: headers["content-encoding"] ?? "",
      cache: headers["cache-control"] ?? "",
      cached: e.response.fromDiskCache || e.response.fromMemoryCache || false,
    });
  });
  cdp.on("Network.loadingFinished", (e) => {
    const r = responses.get(e.requestId);
    if (r) seen.push({ ...r, bytes: e.encodedDataLength });
  });
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("[data-gallery-grid] img").first()).toBeVisible();
  await page.waitForLoadState("networkidle");
  await cdp.detach();
  return seen;
}

function table(name: string, seen: Seen[]) {
  const byKind = new Map<string, { n: number; bytes: number }>();
  for (const s of seen) {
    const k = byKind.get(s.kind) ?? { n: 0, bytes: 0 };
    k.n += 1;
    k.bytes += s.bytes;
    byKind.set(s.kind, k);
  }
  const total = seen.reduce((sum, s) => sum + s.bytes, 0);
  const rows = [...byKind.entries()].sort().map(([k, v]) => `| ${name} | ${k} | ${v.n} | ${v.bytes.toLocaleString("en")} |`);
  return { total, rows };
}

test("the gallery's first visit transfers the app compressed, and a repeat visit almost nothing of it", async ({ page }) => {
  test.setTimeout(60_000);
  const first = await visit(page, "/gallery");
  const repeat = await visit(page, "/gallery");

  // The app itself: hashed names, precompressed, cached for a year.
  const wasm = first.find((s) => s.url.includes("/pkg/") && s.url.endsWith(".wasm"));
  expect(wasm, JSON.stringify(first.map((s) => s.url))).toBeTruthy();
  expect(wasm!.url).toMatch(/\/pkg\/art-factory\.[A-Za-z0-9_-]+\.wasm$/);
  expect(["br", "gzip"]).toContain(wasm!.encoding);
  expect(wasm!.cache).toContain("immutable");
  for (const asset of first.filter((s) => s.url.includes("/pkg/"))) {
    expect(asset.encoding, asset.url).not.toBe("");
    expect(asset.cache, asset.url).toContain("immutable");
  }
  // The page and its JSON are compressed on the fly.
  const documentResponse = first.find((s) => s.kind === "Document");
  expect(documentResponse?.encoding).toMatch(/br|gzip/);
  const json = first.filter((s) => s.url.includes("/api/") && s.bytes > 1500);
  expect(json.length).toBeGreaterThan(0);
  for (const j of json) expect(j.encoding, j.url).toMatch(/br|gzip/);

  // The repeat visit takes the app from the cache.
  const repeatedAssets = repeat.filter((s) => s.url.includes("/pkg/"));
  expect(repeatedAssets.every((s) => s.cached || s.bytes < 1000), JSON.stringify(repeatedAssets)).toBeTruthy();

  const a = table("first", first);
  const b = table("repeat", repeat);
  console.log(
    [
      "",
      "| visit | kind | responses | bytes over the network |",
      "|---|---|---:|---:|",
      ...a.rows,
      `| first | **total** | ${first.length} | **${a.total.toLocaleString("en")}** |`,
      ...b.rows,
      `| repeat | **total** | ${repeat.length} | **${b.total.toLocaleString("en")}** |`,
      "",
    ].join("\n"),
  );
  expect(b.total).toBeLessThan(a.total / 3);
});
