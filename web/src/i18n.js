// UI strings in the browser's language (zh or en); `?lang=zh|en` overrides for tests
// and for a merchant who wants the other one. Card labels follow each overlay's own
// `locale`, as the server's renderer does.
const STRINGS = {
  en: {
    live: "LIVE", offline: "Offline", connecting: "Connecting…", unmute: "Tap to unmute",
    webrtc: "WebRTC", hls: "HLS", waiting: "The stream will start soon",
    consoleTitle: "Merchant console", token: "Merchant token", login: "Sign in", logout: "Sign out",
    loginFailed: "Sign-in failed: check the token for this stream", connected: "Connected",
    disconnected: "Disconnected, reconnecting…", viewers: "Viewers", clicks: "Clicks",
    impressions: "Impressions", assets: "Image library", upload: "Upload image", uploading: "Uploading…",
    uploaded: "Uploaded", noImage: "No image", product: "Product", kind: "Type", card: "Product card",
    sale: "Flash sale", id: "ID", title: "Title", price: "Price", originalPrice: "Original price",
    image: "Image", url: "Product page URL", badge: "Badge", position: "Position", locale: "Card language",
    duration: "Show for (s, 0 = until hidden)", stock: "Stock", saleDuration: "Sale length (s)",
    scheduleAt: "Schedule at (optional)", show: "Show card", startSale: "Start sale", hide: "Hide",
    update: "Update stock", end: "End sale", clear: "Clear all", onScreen: "On screen now",
    scheduled: "Scheduled", cancel: "Cancel", nothing: "Nothing", preview: "Preview", log: "Replies",
    topLeft: "Top left", topRight: "Top right", bottomLeft: "Bottom left", bottomRight: "Bottom right",
    ok: "OK", error: "Error", edit: "Edit", zh: "中文", en: "English", uploadNeedsToken: "Sign in first",
  },
  zh: {
    live: "直播中", offline: "未开播", connecting: "连接中…", unmute: "点击开启声音",
    webrtc: "WebRTC", hls: "HLS", waiting: "直播即将开始",
    consoleTitle: "商家控制台", token: "商家令牌", login: "登录", logout: "退出",
    loginFailed: "登录失败：请检查此直播间的令牌", connected: "已连接",
    disconnected: "连接断开，正在重连…", viewers: "观众", clicks: "点击",
    impressions: "曝光", assets: "图片库", upload: "上传图片", uploading: "上传中…",
    uploaded: "已上传", noImage: "无图片", product: "商品", kind: "类型", card: "商品卡片",
    sale: "限时秒杀", id: "编号", title: "标题", price: "价格", originalPrice: "原价",
    image: "图片", url: "商品链接", badge: "角标", position: "位置", locale: "卡片语言",
    duration: "显示时长（秒，0 = 直到隐藏）", stock: "库存", saleDuration: "秒杀时长（秒）",
    scheduleAt: "定时（可选）", show: "显示卡片", startSale: "开始秒杀", hide: "隐藏",
    update: "更新库存", end: "结束秒杀", clear: "全部清除", onScreen: "正在显示",
    scheduled: "定时任务", cancel: "取消", nothing: "无", preview: "预览", log: "回复",
    topLeft: "左上", topRight: "右上", bottomLeft: "左下", bottomRight: "右下",
    ok: "成功", error: "错误", edit: "编辑", zh: "中文", en: "English", uploadNeedsToken: "请先登录",
  },
};

function pickLanguage() {
  const forced = new URLSearchParams(location.search).get("lang");
  if (forced === "zh" || forced === "en") return forced;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  for (const l of langs) {
    const base = String(l).toLowerCase().slice(0, 2);
    if (base === "zh" || base === "en") return base;
  }
  return "en";
}

export const lang = pickLanguage();
document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";

export function t(key) {
  return STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
}

// Built-in card labels in the overlay's locale (contract: `locale` zh default, or en).
const CARD_LABELS = {
  zh: { left: (n) => `仅剩 ${n} 件`, soldOut: "已抢光", ended: "已结束" },
  en: { left: (n) => `${n} left`, soldOut: "Sold out", ended: "Ended" },
};
export function cardLabels(locale) {
  return CARD_LABELS[locale === "en" ? "en" : "zh"];
}
