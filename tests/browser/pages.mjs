// Browser tests of /watch/{id} and /console/{id} in headless Chromium (Playwright's
// playwright-core driving Debian's /usr/bin/chromium). tests/e2e/test_pages.py starts the
// server and the anchors, runs this script and checks the JSON it prints last:
//   {"checks": {"name": {"ok": bool, ...measured}}, "screenshots": [paths]}
// Usage: node pages.mjs --base http://127.0.0.1:PORT --modules DIR/node_modules --out DIR
//        --burnin shop2:TOKEN --metadata demo:TOKEN
// Every wait polls with a deadline; nothing sleeps and hopes.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const { chromium } = createRequire(join(args.modules, "noop.js"))("playwright-core");
const base = args.base;
const [burnId, burnToken] = args.burnin.split(":");
const [metaId, metaToken] = args.metadata.split(":");
const productUrl = `${base}/healthz?product=c1`;

const checks = {};
const screenshots = [];
const log = (...m) => console.error("[pages]", ...m);

async function poll(fn, timeoutMs, what, intervalMs = 25) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function check(name, fn) {
  const started = Date.now();
  try {
    checks[name] = { ok: true, ...(await fn()) };
  } catch (e) {
    checks[name] = { ok: false, error: String(e.stack || e) };
  }
  checks[name].seconds = (Date.now() - started) / 1000;
  log(name, JSON.stringify(checks[name]));
}

async function shot(page, name, locator) {
  const path = join(args.out, `${name}.png`);
  const png = await (locator ? page.locator(locator).screenshot({ path }) : page.screenshot({ path }));
  screenshots.push(path);
  return png;
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    // The server's ICE candidate is 127.0.0.1; Chromium leaves loopback out otherwise.
    "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required"],
});
const context = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 900 } });
const dialogs = [];
context.on("page", (p) => {
  p.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  p.on("pageerror", (e) => log("pageerror", p.url(), e.message));
});
// Screenshots are decoded and measured in a blank page (the app pages' CSP forbids data: fetches).
const lab = await context.newPage();

// Fraction of pixels in each rect (screenshot pixels) far from `rgb`.
async function farFrom(png, rects, rgb, distance = 60) {
  return lab.evaluate(async ({ b64, rects, rgb, distance }) => {
    const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
    const bitmap = await createImageBitmap(blob);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const g = canvas.getContext("2d");
    g.drawImage(bitmap, 0, 0);
    return rects.map((r) => {
      const d = g.getImageData(Math.round(r.x), Math.round(r.y), Math.max(1, Math.round(r.width)), Math.max(1, Math.round(r.height))).data;
      let far = 0;
      for (let i = 0; i < d.length; i += 4)
        if (Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) + Math.abs(d[i + 2] - rgb[2]) > distance) far++;
      return far / (d.length / 4);
    });
  }, { b64: png.toString("base64"), rects, rgb, distance });
}

const playerStats = (page) => page.evaluate(() => ({ ...window.anchorcastPlayer.stats, status: window.anchorcastPlayer.status }));

async function openConsole(streamId, token) {
  const page = await context.newPage();
  await page.goto(`${base}/console/${streamId}`);
  await page.fill("#token", token);
  await page.click("#login");
  await poll(() => page.$eval("#connection", (n) => n.dataset.kind === "connected"), 10000, "console connected");
  return page;
}

async function showCard(consolePage, fields) {
  await consolePage.selectOption("#f-kind", fields.kind || "card");
  for (const [id, value] of Object.entries(fields)) if (id !== "kind" && id !== "position") await consolePage.fill(`#f-${id}`, value);
  if (fields.position) await consolePage.selectOption("#f-position", fields.position);
  const t0 = Date.now();
  await consolePage.click("#submit");
  return t0;
}

// Per-frame sampler in the watch page: the mean colour of the video inside `rect` (video
// pixels) on every presented frame, and the wall time of the first frame whose mean moved
// away from the baseline: when the burned-in card reached the screen.
async function armFrameSampler(page, rect) {
  await page.evaluate((rect) => {
    const video = document.querySelector("video");
    const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
    const g = canvas.getContext("2d", { willReadFrequently: true });
    const mean = () => {
      g.drawImage(video, 0, 0);
      const d = g.getImageData(rect.x, rect.y, rect.width, rect.height).data;
      const m = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) { m[0] += d[i]; m[1] += d[i + 1]; m[2] += d[i + 2]; }
      return m.map((v) => v / (d.length / 4));
    };
    window.sampler = { baseline: mean(), changedAt: null, frames: 0 };
    const onFrame = () => {
      window.sampler.frames++;
      const m = mean();
      const diff = m.reduce((s, v, i) => s + Math.abs(v - window.sampler.baseline[i]), 0);
      if (diff > 60 && !window.sampler.changedAt) window.sampler.changedAt = Date.now();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }, rect);
}

let burnWatch, burnConsole, hlsWatch;

await check("watch_plays_webrtc", async () => {
  burnWatch = await context.newPage();
  await burnWatch.goto(`${base}/watch/${burnId}`);
  const s = await poll(async () => { const s = await playerStats(burnWatch); return s.transport === "webrtc" && s.frames >= 30 && s; },
    20000, "WebRTC frames on the watch page");
  const size = await burnWatch.$eval("video", (v) => [v.videoWidth, v.videoHeight]);
  await shot(burnWatch, "watch_webrtc", ".ac-stage");
  return { transport: s.transport, frames: s.frames, size, status: s.status };
});

// Click-to-screen delays are reported ([measured]) on every run, never asserted: a test makes no
// timed assertion (perf/ measures speed on a quiet machine).
await check("burn_in_card_reaches_the_video", async () => {
  burnConsole = await openConsole(burnId, burnToken);
  const [vw, vh] = await burnWatch.$eval("video", (v) => [v.videoWidth, v.videoHeight]);
  // Where the server draws a bottom-left card (overlay/render/placement.cpp), inset a little.
  const cw = Math.round(480 * vh / 1080) & ~1, ch = Math.round(184 * vh / 1080) & ~1;
  const x = Math.round(vw * 0.04) & ~1, y = (vh - Math.round(vh * 0.04) - ch) & ~1;
  await armFrameSampler(burnWatch, { x: x + 4, y: y + 4, width: cw - 8, height: ch - 8 });
  const t0 = await showCard(burnConsole, { id: "c1", title: "真丝连衣裙 Silk dress", price: "¥299", original_price: "¥599",
    url: productUrl, badge: "热卖", position: "bottom-left" });
  const changedAt = await poll(() => burnWatch.evaluate(() => window.sampler.changedAt), 5000, "the card in the video frames");
  const delayMs = changedAt - t0;
  const hit = await poll(() => burnWatch.$('.ac-overlay[data-id="c1"]'), 3000, "the card's tap area");
  const box = await hit.boundingBox();
  const stage = await burnWatch.locator(".ac-stage").boundingBox();
  const png = await shot(burnWatch, "burn_in_card", ".ac-stage");
  const rel = { x: box.x - stage.x, y: box.y - stage.y, width: box.width, height: box.height };
  const inset = (r, k) => ({ x: r.x + k, y: r.y + k, width: r.width - 2 * k, height: r.height - 2 * k });
  const beside = { x: rel.x + rel.width + 12, y: rel.y, width: rel.width / 2, height: rel.height };
  const [inside, outside] = await farFrom(png, [inset(rel, 6), beside], [32, 80, 192]);
  if (inside < 0.5) throw new Error(`the tap area is not over the drawn card: ${inside} of it differs from the background`);
  if (outside > 0.1) throw new Error(`the card reaches outside its tap area: ${outside} differs beside it`);
  return { delay_ms: delayMs, tap_area: rel, card_pixels_inside: inside, card_pixels_beside: outside };
});

await check("click_reaches_console_counters", async () => {
  const [opened] = await Promise.all([burnWatch.waitForEvent("popup", { timeout: 5000 }),
    burnWatch.click('.ac-overlay[data-id="c1"]')]);
  const url = opened.url();
  await opened.close();
  const t0 = Date.now();
  const clicks = await poll(() => burnConsole.$eval('#stats-rows tr[data-id="c1"] .ac-clicks', (n) => Number(n.textContent))
    .then((n) => n >= 1 && n).catch(() => 0), 5000, "the console's click counter");
  const impressions = await burnConsole.$eval('#stats-rows tr[data-id="c1"] .ac-impressions', (n) => Number(n.textContent));
  const viewers = await burnConsole.$eval("#viewers", (n) => Number(n.textContent));
  await shot(burnConsole, "console_stats");
  if (!url.startsWith(productUrl)) throw new Error(`the tap opened ${url}, not the card's url`);
  const errors = await burnConsole.$$eval("#log li.ac-error", (n) => n.map((li) => li.textContent));
  if (errors.length) throw new Error(`the console reported errors: ${errors}`);
  if (viewers < 1) throw new Error(`viewers ${viewers}`);
  return { opened: url, clicks, impressions, viewers, counter_delay_ms: Date.now() - t0 };
});

await check("hls_fallback_when_ice_fails", async () => {
  const page = await context.newPage();
  await page.goto(`${base}/watch/${burnId}?ice=relay`);
  const s = await poll(async () => { const s = await playerStats(page); return s.transport === "hls" && s.frames >= 30 && s; },
    45000, "HLS frames after the WebRTC attempt failed");
  const hit = await poll(() => page.$('.ac-overlay[data-id="c1"]'), 5000, "the card's tap area over HLS");
  await shot(page, "watch_hls_fallback", ".ac-stage");
  hlsWatch = page;
  if (s.fallbacks !== 1) throw new Error(`fallbacks ${s.fallbacks}`);
  // hls.js surfaces the playlist's overlay DATERANGEs and the page draws from them.
  if (s.cueSource !== "daterange") throw new Error(`cues from ${s.cueSource}, not the playlist's DATERANGEs`);
  return { transport: s.transport, frames: s.frames, why: s.lastError, cue_source: s.cueSource, daterange_overlays: s.dateRangeCues, tap_area: !!hit };
});

await check("hls_tap_area_follows_the_picture", async () => {
  // Over HLS the picture runs seconds behind; the tap area must appear with the frame that
  // shows the card (the playlist's DATERANGE by hls.js's date of that frame), not before.
  const [vw, vh] = await hlsWatch.$eval("video", (v) => [v.videoWidth, v.videoHeight]);
  const cw = Math.round(480 * vh / 1080) & ~1, ch = Math.round(184 * vh / 1080) & ~1;
  const x = (vw - Math.round(vw * 0.04) - cw) & ~1, y = Math.round(vh * 0.04) & ~1;
  await armFrameSampler(hlsWatch, { x: x + 4, y: y + 4, width: cw - 8, height: ch - 8 });
  await hlsWatch.evaluate(() => {
    window.hitAt = null;
    new MutationObserver(() => {
      if (!window.hitAt && document.querySelector('.ac-overlay[data-id="c5"]')) window.hitAt = Date.now();
    }).observe(document.querySelector(".ac-layer"), { childList: true, subtree: true });
  });
  const t0 = await showCard(burnConsole, { id: "c5", title: "HLS card", price: "¥1", original_price: "", url: productUrl,
    badge: "", position: "top-right" });
  const pixelAt = await poll(() => hlsWatch.evaluate(() => window.sampler.changedAt), 20000, "the card in the HLS picture");
  const hitAt = await poll(() => hlsWatch.evaluate(() => window.hitAt), 5000, "the tap area over HLS");
  await shot(hlsWatch, "hls_card", ".ac-stage");
  await hlsWatch.close();
  const apart = hitAt - pixelAt;
  if (Math.abs(apart) > 250) throw new Error(`tap area ${apart} ms from the picture showing the card`);
  return { picture_after_click_ms: pixelAt - t0, tap_area_minus_picture_ms: apart };
});

let metaWatch, metaConsole;

await check("metadata_card_rendered_client_side", async () => {
  metaWatch = await context.newPage();
  await metaWatch.goto(`${base}/watch/${metaId}`);
  await poll(async () => (await playerStats(metaWatch)).frames >= 10, 20000, "frames on the metadata stream");
  metaConsole = await openConsole(metaId, metaToken);
  const title = "元数据卡片 Metadata card";
  const t0 = await showCard(metaConsole, { id: "c2", title, price: "¥49", original_price: "¥99", url: productUrl,
    position: "top-left" });
  const drawn = await poll(() => metaWatch.$eval('.ac-drawn[data-id="c2"]', (n) => !n.hidden && n.querySelector(".ac-title").textContent)
    .catch(() => null), 5000, "the client-drawn card");
  const delayMs = Date.now() - t0;
  const applied = (await playerStats(metaWatch)).applied;
  const box = await metaWatch.locator('.ac-drawn[data-id="c2"]').boundingBox();
  const video = await metaWatch.locator("video").boundingBox();
  await shot(metaWatch, "metadata_card", ".ac-stage");
  if (drawn !== title) throw new Error(`title ${drawn}`);
  // top-left, 4 % in, 480/1080 of the picture's height wide
  const expectX = video.x + video.width * 0.04, expectW = (480 / 1080) * video.height;
  if (Math.abs(box.x - expectX) > 3 || Math.abs(box.width - expectW) > 3)
    throw new Error(`card at ${JSON.stringify(box)}, expected x ${expectX} width ${expectW}`);
  // Drawn with the frame the cue is stamped with (data channel, RTP timestamp), never before
  // it. Usually that very frame (0 ticks); when the cue crosses SCTP slower than its frame
  // crosses RTP and the jitter buffer, it is drawn on arrival, over a frame or two later
  // (3000 ticks a frame at 30 fps; headless Chromium also skips presenting a few frames).
  if (applied.source !== "datachannel") throw new Error(`cue from ${applied.source}, not the data channel`);
  const ticks = (applied.frame_rtp - applied.cue_rtp) | 0;
  if (ticks < 0 || ticks > 9100) throw new Error(`drawn on the frame ${ticks} RTP ticks after the cue's`);
  return { delay_ms: delayMs, box, frame_minus_cue_rtp_ticks: ticks, applied };
});

await check("metadata_sale_countdown_ticks", async () => {
  await showCard(metaConsole, { kind: "sale", id: "s1", title: "限时秒杀 Flash sale", price: "¥9.9", original_price: "¥99",
    stock: "5", sale_duration: "90", position: "top-right", url: "" });
  const sel = '.ac-drawn[data-id="s1"] .ac-countdown';
  const first = await poll(() => metaWatch.$eval(sel, (n) => n.textContent).catch(() => null), 5000, "the sale's countdown");
  const second = await poll(() => metaWatch.$eval(sel, (n) => n.textContent).then((t) => t !== first && t), 3000, "the countdown ticking");
  const stock = await metaWatch.$eval('.ac-drawn[data-id="s1"] .ac-stock-text', (n) => n.textContent);
  const text = await metaWatch.$eval('.ac-drawn[data-id="s1"]', (n) => n.textContent);
  const card = await metaWatch.locator('.ac-drawn[data-id="s1"]').boundingBox();
  const strip = await metaWatch.locator('.ac-drawn[data-id="s1"] .ac-countdown').boundingBox();
  await shot(metaWatch, "metadata_sale", ".ac-stage");
  if (!/^0[01]:\d\d$/.test(first)) throw new Error(`countdown ${first}`);
  if (/null|undefined/.test(text)) throw new Error(`stray text in the card: ${text}`);
  if (strip.y + strip.height > card.y + card.height + 1) throw new Error("the countdown falls outside the card");
  return { first, second, stock };
});

await check("console_escapes_merchant_strings", async () => {
  const title = "<img src=x onerror=alert(1)>";
  await showCard(metaConsole, { id: "c3", title, price: "<b>1</b>", original_price: "", url: "", position: "bottom-right" });
  const listed = await poll(() => metaConsole.$eval('#on-screen li[data-id="c3"] .ac-item-title', (n) => n.textContent).catch(() => null),
    5000, "the console's on-screen list");
  const drawn = await poll(() => metaWatch.$eval('.ac-drawn[data-id="c3"] .ac-title', (n) => n.textContent).catch(() => null),
    5000, "the viewer's card");
  const injected = await metaConsole.$$eval('img[src="x"], b', (n) => n.length) + await metaWatch.$$eval('img[src="x"], b', (n) => n.length);
  await shot(metaConsole, "console_escaped_title");
  if (listed !== title || drawn !== title) throw new Error(`console ${listed}, viewer ${drawn}`);
  if (injected || dialogs.length) throw new Error(`markup injected: ${injected} elements, dialogs ${dialogs}`);
  return { console_text: listed, viewer_text: drawn };
});

await check("console_uploads_an_image_the_viewer_sees", async () => {
  // A real PNG, made by the browser (no image library in this script).
  const b64 = await lab.evaluate(async () => {
    const c = new OffscreenCanvas(64, 64);
    const g = c.getContext("2d");
    g.fillStyle = "#ff8000";
    g.fillRect(0, 0, 64, 64);
    const bytes = new Uint8Array(await (await c.convertToBlob({ type: "image/png" })).arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  });
  await metaConsole.setInputFiles("#upload", { name: "orange.png", mimeType: "image/png", buffer: Buffer.from(b64, "base64") });
  const assetId = await poll(() => metaConsole.$eval("#f-image", (n) => n.value.startsWith("img-") && n.value), 10000, "the uploaded asset");
  const thumbs = await metaConsole.$$eval("#library .ac-thumb img", (n) => n.filter((i) => i.naturalWidth > 0).length);
  await showCard(metaConsole, { id: "c4", title: "Orange 橙子", price: "¥5", original_price: "", url: "", position: "bottom-left" });
  const size = await poll(() => metaWatch.$eval('.ac-drawn[data-id="c4"] .ac-image img', (i) => i.complete && i.naturalWidth)
    .catch(() => 0), 5000, "the product image in the viewer's card");
  if (thumbs < 1) throw new Error("no thumbnail in the library");
  return { asset: assetId, viewer_image_width: size };
});

await check("console_schedules_and_runs_a_sale", async () => {
  const at = await metaConsole.evaluate(() => {
    const d = new Date(Date.now() + 3000);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  });
  await metaConsole.fill("#f-at", at);
  await showCard(metaConsole, { kind: "sale", id: "s2", title: "Scheduled sale 定时秒杀", price: "¥1", original_price: "¥10",
    stock: "3", sale_duration: "120", position: "bottom-right", url: "" });
  await metaConsole.fill("#f-at", "");
  const listed = await poll(() => metaConsole.$eval("#scheduled li[data-id]", (n) => n.dataset.id).catch(() => null), 5000, "the scheduled item");
  const onViewer = await poll(() => metaWatch.$('.ac-drawn[data-id="s2"]'), 10000, "the scheduled sale on the viewer page");
  await poll(() => metaConsole.$('#on-screen li[data-id="s2"] .ac-update'), 5000, "the sale's buttons in the console");
  await metaConsole.fill('#on-screen li[data-id="s2"] .ac-stock-input', "0");
  await metaConsole.click('#on-screen li[data-id="s2"] .ac-update');
  await poll(() => metaWatch.$eval('.ac-drawn[data-id="s2"]', (n) => n.dataset.state === "sold_out"), 5000, "sold out on the viewer page");
  await shot(metaWatch, "metadata_sold_out", ".ac-stage");
  await metaConsole.click('#on-screen li[data-id="s2"] .ac-end');
  await poll(() => metaWatch.$eval('.ac-drawn[data-id="s2"]', (n) => n.dataset.state === "ended"), 5000, "ended on the viewer page");
  await metaConsole.click('#on-screen li[data-id="s2"] .ac-hide');
  await poll(() => metaWatch.$('.ac-drawn[data-id="s2"]').then((n) => !n), 5000, "the sale gone after hide");
  return { scheduled: listed, shown: !!onViewer };
});

await check("phone_viewport_and_chinese", async () => {
  const phone = await browser.newContext({ locale: "zh-CN", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await page.goto(`${base}/watch/${metaId}`);
  const status = await poll(() => page.$eval(".ac-badge-live", (n) => n.textContent === "直播中" && n.textContent), 20000, "the Chinese live badge");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  await shot(page, "phone_watch_zh");
  const consolePage = await phone.newPage();
  await consolePage.goto(`${base}/console/${metaId}`);
  const label = await consolePage.$eval('label[for="token"]', (n) => n.textContent);
  await consolePage.fill("#token", metaToken);
  await consolePage.click("#login");
  await poll(() => consolePage.$eval("#connection", (n) => n.dataset.kind === "connected"), 10000, "console connected");
  const consoleOverflow = await consolePage.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  await shot(consolePage, "phone_console_zh");
  await phone.close();
  if (label !== "商家令牌") throw new Error(`login label ${label}`);
  if (overflow > 0 || consoleOverflow > 0) throw new Error(`horizontal overflow: watch ${overflow}, console ${consoleOverflow}`);
  return { status, login_label: label };
});

await check("console_refuses_a_bad_token", async () => {
  const page = await context.newPage();
  await page.goto(`${base}/console/${metaId}`);
  await page.fill("#token", "not-a-token");
  await page.click("#login");
  const message = await poll(() => page.$eval("#login-error", (n) => n.textContent).catch(() => null), 10000, "the login error");
  await page.close();
  return { message };
});

await browser.close();
const result = { checks, screenshots };
writeFileSync(join(args.out, "result.json"), JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
