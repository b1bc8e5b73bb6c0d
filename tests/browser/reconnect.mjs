// The watch page through an anchor's absence: opened before the stream is live it shows
// offline, then plays when the anchor starts; when the anchor drops it shows offline again,
// and when the anchor returns it plays again by itself. tests/e2e/test_pages.py drives the
// anchor; the two talk in lines: this script prints {"step":...} and waits for a line on
// stdin before the next step.
// Usage: node reconnect.mjs --base URL --modules DIR --out DIR --stream ID
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { join } from "node:path";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const { chromium } = createRequire(join(args.modules, "noop.js"))("playwright-core");
const reader = createInterface({ input: process.stdin });
const lines = reader[Symbol.asyncIterator]();
const say = (step, data = {}) => console.log(JSON.stringify({ step, ...data }));
const next = async () => (await lines.next()).value;

async function poll(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn().catch((e) => e);
    if (last && !(last instanceof Error)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required"],
});
try {
  const page = await browser.newPage({ locale: "en-US" });
  const stats = () => page.evaluate(() => ({ ...window.anchorcastPlayer.stats, status: window.anchorcastPlayer.status }));
  await page.goto(`${args.base}/watch/${args.stream}`);
  await poll(async () => (await stats()).status === "offline", 10000, "offline before the anchor starts");
  await page.screenshot({ path: join(args.out, "reconnect_offline_at_start.png") });
  say("offline", { badge: await page.$eval(".ac-badge-live", (n) => n.textContent) });
  await next(); // anchor started
  let s = await poll(async () => { const s = await stats(); return s.status === "live" && s.frames >= 30 && s; }, 30000, "playing");
  say("playing", { transport: s.transport, frames: s.frames });
  await next(); // anchor stopped
  await poll(async () => (await stats()).status === "offline", 15000, "offline after the anchor left");
  const framesAtOffline = (await stats()).frames;
  await page.screenshot({ path: join(args.out, "reconnect_offline.png") });
  say("offline_again", { frames: framesAtOffline });
  await next(); // anchor back
  s = await poll(async () => { const s = await stats(); return s.status === "live" && s.frames >= framesAtOffline + 30 && s; },
    30000, "playing again after the anchor returned");
  await page.screenshot({ path: join(args.out, "reconnect_back.png") });
  say("playing_again", { transport: s.transport, frames: s.frames, restarts: s.restarts });
} catch (e) {
  say("error", { error: String(e.stack || e) });
} finally {
  await browser.close();
  reader.close(); // stdin would keep the process alive
}
