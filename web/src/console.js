// /console/{id}: the merchant console. Token login (sessionStorage), image library
// (uploads with the merchant token: POST /api/v1/streams/{id}/assets), product form,
// show/hide cards, start/update/end flash sales, scheduled items, live stats and a
// preview player. Every merchant string is shown with textContent (dom.js: el()).
import { ControlClient } from "./control_client.js";
import { el, streamIdFromPath } from "./dom.js";
import { t } from "./i18n.js";
import { Player } from "./player.js";

const streamId = streamIdFromPath("/console/");
const tokenKey = `anchorcast.token.${streamId}`;
const libraryKey = `anchorcast.assets.${streamId}`;
const app = document.getElementById("app");
document.title = `${t("consoleTitle")} · ${streamId}`;

let client = null;
let token = sessionStorage.getItem(tokenKey) || "";
let overlays = []; // what is on screen (from the stream's latest cue)
let scheduled = []; // [{id, at_ms, command}]
let stats = { clicks: {}, impressions: {}, viewers: 0 };
const thumbnails = new Map(); // asset id -> object URL

const header = el("header", { class: "ac-header" },
  el("h1", { text: `${t("consoleTitle")} · ${streamId}` }),
  el("span", { id: "connection", class: "ac-connection" }));
const main = el("main", { class: "ac-console" });
app.append(header, main);

function setConnection(text, kind) {
  const node = document.getElementById("connection");
  node.textContent = text;
  node.dataset.kind = kind;
}

// ---- login

function showLogin(message) {
  client?.close();
  client = null;
  main.replaceChildren();
  const input = el("input", { id: "token", type: "password", autocomplete: "off", required: true });
  const form = el("form", { class: "ac-login", onsubmit: (e) => {
    e.preventDefault();
    token = input.value.trim();
    if (!token) return;
    sessionStorage.setItem(tokenKey, token);
    start();
  } },
  el("label", { for: "token", text: t("token") }), input,
  el("button", { type: "submit", id: "login", text: t("login") }),
  message ? el("p", { class: "ac-error", id: "login-error", text: message }) : null);
  main.append(form);
  setConnection("", "");
}

// ---- the console proper

const log = el("ol", { id: "log", class: "ac-log" });
function note(text, kind = "ok") {
  log.prepend(el("li", { class: `ac-${kind}`, text }));
  while (log.children.length > 30) log.lastChild.remove();
}

async function call(command, what) {
  const reply = await client.send(command);
  if (reply.type !== "ack") {
    note(`${t("error")}: ${what}: ${reply.code}: ${reply.message}`, "error");
    return reply;
  }
  note(`${t("ok")}: ${what}${reply.scheduled ? ` (${reply.scheduled})` : ""}`);
  if (reply.scheduled) {
    scheduled = scheduled.filter((s) => s.id !== reply.scheduled);
    scheduled.push({ id: reply.scheduled, at_ms: command.at_ms, command });
    renderScheduled();
  }
  return reply;
}

function field(id, label, input) {
  input.id = id;
  return el("div", { class: "ac-field" }, el("label", { for: id, text: label }), input);
}

function select(options, value) {
  const s = el("select");
  for (const [v, label] of options) s.append(el("option", { value: v, text: label }));
  s.value = value;
  return s;
}

function loadLibrary() {
  try { return JSON.parse(localStorage.getItem(libraryKey) || "[]"); } catch { return []; }
}

async function thumbnail(assetId) {
  if (thumbnails.has(assetId)) return thumbnails.get(assetId);
  const resp = await fetch(`/api/v1/streams/${encodeURIComponent(streamId)}/assets/${assetId}`,
    { headers: { Authorization: `Bearer ${token}` } });
  if (!resp.ok) return null;
  const url = URL.createObjectURL(await resp.blob());
  thumbnails.set(assetId, url);
  return url;
}

const ui = {};

function buildConsole() {
  main.replaceChildren();
  // Stats
  ui.viewers = el("strong", { id: "viewers", text: "0" });
  ui.clicksTotal = el("strong", { id: "clicks-total", text: "0" });
  ui.statsTable = el("tbody", { id: "stats-rows" });
  const statsBox = el("section", { class: "ac-panel ac-stats" },
    el("h2", { text: `${t("viewers")} / ${t("clicks")}` }),
    el("p", {}, `${t("viewers")}: `, ui.viewers, " · ", `${t("clicks")}: `, ui.clicksTotal),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: t("id") }), el("th", { text: t("clicks") }),
      el("th", { text: t("impressions") }))), ui.statsTable));

  // Preview
  const previewRoot = el("div", { class: "ac-preview", id: "preview" });
  const preview = el("section", { class: "ac-panel" }, el("h2", { text: t("preview") }), previewRoot);

  // Library
  ui.library = el("div", { class: "ac-library", id: "library" });
  const file = el("input", { type: "file", id: "upload", accept: "image/png,image/jpeg,image/webp" });
  file.addEventListener("change", () => file.files[0] && upload(file.files[0]).finally(() => { file.value = ""; }));
  const library = el("section", { class: "ac-panel" }, el("h2", { text: t("assets") }),
    el("label", { class: "ac-upload", for: "upload", text: t("upload") }), file, ui.library);

  // Product form
  const f = ui.form = {
    kind: select([["card", t("card")], ["sale", t("sale")]], "card"),
    id: el("input", { value: "c1", maxlength: 64, pattern: "[A-Za-z0-9_.:\\-]{1,64}", required: true }),
    title: el("input", { maxlength: 200, required: true }),
    price: el("input", { maxlength: 32, required: true }),
    original_price: el("input", { maxlength: 32 }),
    image: select([["", t("noImage")]], ""),
    url: el("input", { type: "url", maxlength: 2048, placeholder: "https://" }),
    badge: el("input", { maxlength: 16 }),
    position: select([["bottom-left", t("bottomLeft")], ["bottom-right", t("bottomRight")],
      ["top-left", t("topLeft")], ["top-right", t("topRight")]], "bottom-left"),
    locale: select([["zh", t("zh")], ["en", t("en")]], "zh"),
    duration: el("input", { type: "number", min: 0, max: 604800, value: 0 }),
    stock: el("input", { type: "number", min: 0, max: 1000000000, value: 100 }),
    sale_duration: el("input", { type: "number", min: 1, max: 604800, value: 60 }),
    at: el("input", { type: "datetime-local", step: 1 }),
  };
  const saleOnly = [field("f-stock", t("stock"), f.stock), field("f-sale_duration", t("saleDuration"), f.sale_duration)];
  const cardOnly = [field("f-duration", t("duration"), f.duration)];
  const syncKind = () => {
    const sale = f.kind.value === "sale";
    for (const n of saleOnly) n.hidden = !sale;
    for (const n of cardOnly) n.hidden = sale;
    ui.submit.textContent = sale ? t("startSale") : t("show");
  };
  f.kind.addEventListener("change", syncKind);
  ui.submit = el("button", { type: "submit", id: "submit" });
  const form = el("form", { class: "ac-panel ac-form", id: "product-form", onsubmit: (e) => { e.preventDefault(); submitProduct(); } },
    el("h2", { text: t("product") }),
    field("f-kind", t("kind"), f.kind), field("f-id", t("id"), f.id), field("f-title", t("title"), f.title),
    field("f-price", t("price"), f.price), field("f-original_price", t("originalPrice"), f.original_price),
    field("f-image", t("image"), f.image), field("f-url", t("url"), f.url), field("f-badge", t("badge"), f.badge),
    field("f-position", t("position"), f.position), field("f-locale", t("locale"), f.locale),
    ...cardOnly, ...saleOnly, field("f-at", t("scheduleAt"), f.at), ui.submit);
  syncKind();

  // On screen, scheduled, replies
  ui.onScreen = el("ul", { id: "on-screen", class: "ac-list" });
  ui.scheduled = el("ul", { id: "scheduled", class: "ac-list" });
  const live = el("section", { class: "ac-panel" },
    el("h2", { text: t("onScreen") }), ui.onScreen,
    el("button", { type: "button", id: "clear", text: t("clear"),
      onclick: () => call({ type: "overlay.clear" }, t("clear")) }),
    el("h2", { text: t("scheduled") }), ui.scheduled,
    el("h2", { text: t("log") }), log);

  main.append(el("div", { class: "ac-columns" },
    el("div", {}, preview, statsBox, live), el("div", {}, form, library)));
  document.getElementById("logout")?.remove();
  header.append(el("button", { type: "button", id: "logout", text: t("logout"), onclick: () => {
    sessionStorage.removeItem(tokenKey);
    token = "";
    showLogin();
  } }));
  renderLibrary();
  renderStats();
  ui.player = new Player(previewRoot, streamId, { report: false });
  ui.player.feed.on((feed) => { overlays = feed.cue?.overlays || []; renderOnScreen(); });
}

function atMs() {
  const v = ui.form.at.value;
  if (!v) return undefined;
  const ms = new Date(v).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

function submitProduct() {
  const f = ui.form;
  const sale = f.kind.value === "sale";
  const body = {
    id: f.id.value.trim(), title: f.title.value, price: f.price.value, position: f.position.value,
    locale: f.locale.value,
  };
  if (f.original_price.value) body.original_price = f.original_price.value;
  if (f.image.value) body.image = f.image.value;
  if (f.url.value) body.url = f.url.value.trim();
  if (f.badge.value) body.badge = f.badge.value;
  const command = sale
    ? { type: "sale.start", sale: { ...body, stock: Number(f.stock.value), duration_ms: Number(f.sale_duration.value) * 1000 } }
    : { type: "card.show", card: { ...body, duration_ms: Number(f.duration.value) * 1000 } };
  const at = atMs();
  if (at !== undefined) command.at_ms = at;
  return call(command, `${sale ? t("startSale") : t("show")} ${body.id}`);
}

async function upload(fileObject) {
  if (!token) return note(t("uploadNeedsToken"), "error");
  note(t("uploading"));
  const resp = await fetch(`/api/v1/streams/${encodeURIComponent(streamId)}/assets`, {
    method: "POST", headers: { Authorization: `Bearer ${token}` }, body: fileObject });
  const body = await resp.json().catch(() => ({}));
  if (resp.status !== 201) return note(`${t("error")}: ${body.message || resp.status}`, "error");
  const library = loadLibrary().filter((a) => a.id !== body.id);
  library.unshift({ id: body.id, width: body.width, height: body.height, name: fileObject.name.slice(0, 80) });
  localStorage.setItem(libraryKey, JSON.stringify(library.slice(0, 100)));
  thumbnails.set(body.id, URL.createObjectURL(fileObject));
  note(`${t("uploaded")}: ${body.id}`);
  renderLibrary();
  ui.form.image.value = body.id;
}

function renderLibrary() {
  const library = loadLibrary();
  ui.library.replaceChildren();
  const current = ui.form.image.value;
  ui.form.image.replaceChildren(el("option", { value: "", text: t("noImage") }));
  for (const a of library) {
    ui.form.image.append(el("option", { value: a.id, text: `${a.name || a.id} (${a.width}x${a.height})` }));
    const img = el("img", { alt: a.name || a.id });
    thumbnail(a.id).then((url) => url && (img.src = url));
    ui.library.append(el("button", { type: "button", class: "ac-thumb", title: a.id,
      onclick: () => { ui.form.image.value = a.id; } }, img));
  }
  ui.form.image.value = library.some((a) => a.id === current) ? current : "";
}

function fillForm(o) {
  const f = ui.form;
  f.kind.value = o.kind === "sale" ? "sale" : "card";
  f.kind.dispatchEvent(new Event("change"));
  for (const k of ["id", "title", "price", "original_price", "url", "badge"]) f[k].value = o[k] || "";
  f.position.value = o.position || "bottom-left";
  f.locale.value = o.locale || "zh";
  if (o.image && [...f.image.options].some((opt) => opt.value === o.image)) f.image.value = o.image;
  if (o.kind === "sale") f.stock.value = o.stock ?? 0;
}

function renderOnScreen() {
  if (!ui.onScreen) return;
  ui.onScreen.replaceChildren();
  if (!overlays.length) ui.onScreen.append(el("li", { class: "ac-empty", text: t("nothing") }));
  for (const o of overlays) {
    const item = el("li", { dataset: { id: o.id, kind: o.kind } },
      el("span", { class: "ac-item-kind", text: o.kind === "sale" ? t("sale") : t("card") }),
      el("span", { class: "ac-item-title", text: o.title || "" }),
      el("span", { class: "ac-item-price", text: o.price || "" }),
      el("span", { class: "ac-item-id", text: o.id }));
    const buttons = el("span", { class: "ac-item-actions" },
      el("button", { type: "button", class: "ac-edit", text: t("edit"), onclick: () => fillForm(o) }),
      el("button", { type: "button", class: "ac-hide", text: t("hide"),
        onclick: () => call({ type: "card.hide", id: o.id }, `${t("hide")} ${o.id}`) }));
    if (o.kind === "sale" && o.status !== "ended") {
      const stock = el("input", { type: "number", min: 0, value: o.stock ?? 0, class: "ac-stock-input", "aria-label": t("stock") });
      buttons.append(stock,
        el("button", { type: "button", class: "ac-update", text: t("update"),
          onclick: () => call({ type: "sale.update", id: o.id, stock: Number(stock.value) }, `${t("update")} ${o.id}`) }),
        el("button", { type: "button", class: "ac-end", text: t("end"),
          onclick: () => call({ type: "sale.end", id: o.id }, `${t("end")} ${o.id}`) }));
    }
    item.append(buttons);
    ui.onScreen.append(item);
  }
}

function renderScheduled() {
  if (!ui.scheduled) return;
  const now = Date.now();
  scheduled = scheduled.filter((s) => s.at_ms > now - 2000);
  ui.scheduled.replaceChildren();
  if (!scheduled.length) ui.scheduled.append(el("li", { class: "ac-empty", text: t("nothing") }));
  for (const s of scheduled) {
    const c = s.command || {};
    const target = c.card?.id || c.sale?.id || c.id || "";
    ui.scheduled.append(el("li", { dataset: { id: s.id } },
      el("span", { text: new Date(s.at_ms).toLocaleString() }),
      el("span", { text: `${c.type || ""} ${target}` }),
      el("button", { type: "button", text: t("cancel"), onclick: async () => {
        const r = await call({ type: "schedule.cancel", id: s.id }, `${t("cancel")} ${s.id}`);
        if (r.type === "ack") { scheduled = scheduled.filter((x) => x.id !== s.id); renderScheduled(); }
      } })));
  }
}

function renderStats() {
  if (!ui.viewers) return;
  ui.viewers.textContent = String(stats.viewers ?? 0);
  const ids = new Set([...Object.keys(stats.clicks || {}), ...Object.keys(stats.impressions || {})]);
  let total = 0;
  ui.statsTable.replaceChildren();
  for (const id of [...ids].sort()) {
    const clicks = stats.clicks?.[id] ?? 0;
    total += clicks;
    ui.statsTable.append(el("tr", { dataset: { id } }, el("td", { text: id }),
      el("td", { class: "ac-clicks", text: String(clicks) }),
      el("td", { class: "ac-impressions", text: String(stats.impressions?.[id] ?? 0) })));
  }
  ui.clicksTotal.textContent = String(total);
}

function onEvent(msg) {
  if (msg.type === "state") {
    scheduled = Array.isArray(msg.scheduled) ? msg.scheduled : [];
    renderScheduled();
  } else if (msg.type === "scheduled") {
    if (!scheduled.some((s) => s.id === msg.id)) scheduled.push({ id: msg.id, at_ms: msg.at_ms, command: {} });
    renderScheduled();
  } else if (msg.type === "applied") {
    renderScheduled();
    ui.player?.feed.poll();
  } else if (msg.type === "stats") {
    stats = msg;
    renderStats();
  }
}

function start() {
  buildConsole();
  setConnection(t("connecting"), "connecting");
  client = new ControlClient(streamId, token, {
    onEvent,
    onStatus: (status) => {
      if (status === "refused") return showLogin(t("loginFailed"));
      setConnection(status === "connected" ? t("connected") : t("disconnected"), status);
    },
  });
}
setInterval(renderScheduled, 1000);

if (token) start();
else showLogin();
window.anchorcastConsole = { get stats() { return stats; }, get overlays() { return overlays; } };
