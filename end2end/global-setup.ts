// `cargo leptos end-to-end` starts the server and Playwright at the same time: wait until the
// app answers its health check (it may be creating its database on first start).
export default async function globalSetup() {
  const base = process.env.ART_FACTORY_E2E_URL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 90_000;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the app at ${base} did not become healthy within 90 s (${last})`);
}
