#include "overlay/state/overlay_state.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace anchorcast::overlay {

using control::Command;
using control::CommandError;
using control::CommandType;
using control::ErrorCode;
using control::OverlayKind;
using nlohmann::json;

namespace {

CommandError not_found(const std::string& what) { return CommandError{ErrorCode::not_found, what}; }
CommandError invalid(const std::string& what) { return CommandError{ErrorCode::invalid, what}; }

const char* sale_status(const OverlayRecord& r, int64_t now_ms) {
  if (r.ended || (r.ends_at_ms > 0 && now_ms >= r.ends_at_ms)) return "ended";
  if (r.overlay.stock == 0) return "sold_out";
  return "active";
}

json view_json(const OverlayRecord& r, std::optional<int64_t> now_ms) {
  const auto& o = r.overlay;
  json j = {{"kind", o.kind == OverlayKind::sale ? "sale" : "card"},
            {"id", o.id},
            {"title", o.title},
            {"price", o.price},
            {"position", control::position_name(o.position)},
            {"locale", o.locale},
            {"duration_ms", o.duration_ms},
            {"shown_at_ms", r.shown_at_ms}};
  if (!o.original_price.empty()) j["original_price"] = o.original_price;
  if (!o.badge.empty()) j["badge"] = o.badge;
  if (!o.url.empty()) j["url"] = o.url;
  if (!o.image.empty()) j["image"] = o.image;
  if (r.ends_at_ms > 0) j[o.kind == OverlayKind::sale ? "ends_at_ms" : "expires_at_ms"] = r.ends_at_ms;
  if (o.kind == OverlayKind::sale) {
    j["stock"] = o.stock;
    if (now_ms) j["status"] = sale_status(r, *now_ms);
  }
  return j;
}

}  // namespace

std::string OverlayState::record_to_json(const OverlayRecord& r) {
  json j = view_json(r, std::nullopt);
  j["order"] = r.order;
  j["ended"] = r.ended;
  return j.dump();
}

std::optional<OverlayRecord> OverlayState::record_from_json(std::string_view doc) {
  try {
    return record_from_json_or_throw(doc);
  } catch (const json::exception&) {
    return std::nullopt;  // a row we cannot read is skipped, never fatal
  }
}

std::optional<OverlayRecord> OverlayState::record_from_json_or_throw(std::string_view doc) {
  json j = json::parse(doc, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  // Stored rows are our own output: rebuild them through the command parser's rules.
  json body = j;
  bool sale = j.value("kind", "") == "sale";
  for (const char* k : {"kind", "order", "ended", "shown_at_ms", "expires_at_ms", "status"}) body.erase(k);
  if (sale) body.erase("duration_ms");
  else body.erase("ends_at_ms");
  if (sale && !body.contains("ends_at_ms")) body["ends_at_ms"] = j.value("ends_at_ms", int64_t{1});
  json cmd = {{"type", sale ? "sale.start" : "card.show"}, {"req", "restore"}, {sale ? "sale" : "card", body}};
  auto parsed = control::parse_command(cmd.dump());
  if (!parsed.ok()) return std::nullopt;
  OverlayRecord r;
  r.overlay = parsed.command().overlay;
  r.overlay.duration_ms = j.value("duration_ms", int64_t{0});
  r.overlay.ends_at_ms.reset();
  r.order = j.value("order", int64_t{0});
  r.shown_at_ms = j.value("shown_at_ms", int64_t{0});
  r.ends_at_ms = j.value(sale ? "ends_at_ms" : "expires_at_ms", int64_t{0});
  r.ended = j.value("ended", false);
  return r;
}

bool OverlayState::visible(const OverlayRecord& r, int64_t now_ms) const {
  // Sales stay listed once ended (shown as ended); cards vanish when their time is up.
  return r.overlay.kind == OverlayKind::sale || r.ends_at_ms == 0 || now_ms < r.ends_at_ms;
}

OverlayRecord* OverlayState::find(const std::string& id) {
  for (auto& r : overlays_)
    if (r.overlay.id == id) return &r;
  return nullptr;
}

void OverlayState::purge_expired(int64_t now_ms, std::vector<StoreOp>& ops) {
  auto it = std::remove_if(overlays_.begin(), overlays_.end(), [&](const OverlayRecord& r) {
    if (visible(r, now_ms)) return false;
    ops.push_back(StoreOp{StoreOp::Kind::delete_overlay, r.overlay.id, {}, 0, nullptr});
    return true;
  });
  overlays_.erase(it, overlays_.end());
}

size_t OverlayState::visible_count(int64_t now_ms) const {
  return static_cast<size_t>(std::count_if(overlays_.begin(), overlays_.end(),
                                           [&](const OverlayRecord& r) { return visible(r, now_ms); }));
}

ApplyResult OverlayState::apply(const Command& command, int64_t now_ms, const AssetExists& asset_exists) {
  std::vector<StoreOp> ops;
  bool shows = command.type == CommandType::card_show || command.type == CommandType::sale_start;
  if (shows && !command.image && !command.overlay.image.empty() && !asset_exists(command.overlay.image)) {
    const char* path = command.type == CommandType::card_show ? "card.image" : "sale.image";
    return not_found(std::string(path) + ": no asset '" + command.overlay.image + "' (upload it with POST /api/v1/assets)");
  }
  if (command.at_ms && *command.at_ms > now_ms) {
    if (command.type == CommandType::schedule_cancel) return invalid("at_ms: schedule.cancel takes effect at once");
    if (scheduled_.size() >= kMaxScheduled) return invalid("at_ms: at most 256 scheduled commands per stream");
    if (command.image) ops.push_back(StoreOp{StoreOp::Kind::put_asset, command.overlay.image, {}, 0, command.image});
    ScheduledCommand s{"sch-" + std::to_string(version_ + 1), *command.at_ms, command};
    s.command.image.reset();
    ops.push_back(StoreOp{StoreOp::Kind::put_scheduled, s.id, control::command_to_json(s.command), s.at_ms, nullptr});
    auto pos = std::upper_bound(scheduled_.begin(), scheduled_.end(), s.at_ms,
                                [](int64_t at, const ScheduledCommand& x) { return at < x.at_ms; });
    std::string id = s.id;
    scheduled_.insert(pos, std::move(s));
    return Change{++version_, id, std::move(ops)};
  }
  auto result = apply_now(command, now_ms, asset_exists, ops);
  if (auto* change = std::get_if<Change>(&result)) {
    change->version = ++version_;
    change->ops = std::move(ops);
  }
  return result;
}

ApplyResult OverlayState::apply_now(const Command& c, int64_t now_ms, const AssetExists&, std::vector<StoreOp>& ops) {
  purge_expired(now_ms, ops);
  auto put = [&](const OverlayRecord& r) {
    ops.push_back(StoreOp{StoreOp::Kind::put_overlay, r.overlay.id, record_to_json(r), r.order, nullptr});
  };
  switch (c.type) {
    case CommandType::card_show:
    case CommandType::sale_start: {
      OverlayRecord r;
      r.overlay = c.overlay;
      r.shown_at_ms = now_ms;
      if (c.overlay.kind == OverlayKind::sale)
        r.ends_at_ms = c.overlay.ends_at_ms ? *c.overlay.ends_at_ms : now_ms + c.overlay.duration_ms;
      else if (c.overlay.duration_ms > 0)
        r.ends_at_ms = now_ms + c.overlay.duration_ms;
      r.overlay.ends_at_ms.reset();
      OverlayRecord* existing = find(c.overlay.id);
      if (!existing && overlays_.size() >= kMaxOverlays)
        return invalid("at most 32 overlays per stream: hide one first");
      if (c.image) ops.push_back(StoreOp{StoreOp::Kind::put_asset, c.overlay.image, {}, 0, c.image});
      if (existing) {
        r.order = existing->order;
        *existing = r;  // replaced in place: keeps its list position
      } else {
        r.order = static_cast<int64_t>(version_ + 1);
        overlays_.push_back(r);
      }
      put(r);
      return Change{};
    }
    case CommandType::card_hide: {
      auto it = std::find_if(overlays_.begin(), overlays_.end(),
                             [&](const OverlayRecord& r) { return r.overlay.id == c.id; });
      if (it == overlays_.end()) return not_found("id: no card or sale '" + c.id + "' on screen");
      ops.push_back(StoreOp{StoreOp::Kind::delete_overlay, c.id, {}, 0, nullptr});
      overlays_.erase(it);
      return Change{};
    }
    case CommandType::sale_update:
    case CommandType::sale_end: {
      OverlayRecord* r = find(c.id);
      if (!r || r->overlay.kind != OverlayKind::sale) return not_found("id: no sale '" + c.id + "' on screen");
      if (c.type == CommandType::sale_end) {
        if (!r->ended) {
          r->ended = true;
          if (r->ends_at_ms == 0 || r->ends_at_ms > now_ms) r->ends_at_ms = now_ms;
        }
      } else {
        if (r->ended || now_ms >= r->ends_at_ms) return invalid("id: sale '" + c.id + "' has ended");
        if (c.stock) r->overlay.stock = *c.stock;
        if (c.price) r->overlay.price = *c.price;
        if (c.update_ends_at_ms) r->ends_at_ms = *c.update_ends_at_ms;
      }
      put(*r);
      return Change{};
    }
    case CommandType::overlay_clear:
      overlays_.clear();
      ops.push_back(StoreOp{StoreOp::Kind::clear_overlays, {}, {}, 0, nullptr});
      return Change{};
    case CommandType::schedule_cancel: {
      auto it = std::find_if(scheduled_.begin(), scheduled_.end(),
                             [&](const ScheduledCommand& s) { return s.id == c.id; });
      if (it == scheduled_.end()) return not_found("id: no scheduled command '" + c.id + "'");
      ops.push_back(StoreOp{StoreOp::Kind::delete_scheduled, c.id, {}, 0, nullptr});
      scheduled_.erase(it);
      return Change{};
    }
  }
  return invalid("unsupported command");
}

std::vector<OverlayState::Fired> OverlayState::run_due(int64_t now_ms, const AssetExists& asset_exists) {
  std::vector<Fired> fired;
  while (!scheduled_.empty() && scheduled_.front().at_ms <= now_ms) {
    ScheduledCommand s = std::move(scheduled_.front());
    scheduled_.erase(scheduled_.begin());
    std::vector<StoreOp> ops{StoreOp{StoreOp::Kind::delete_scheduled, s.id, {}, 0, nullptr}};
    Command c = s.command;
    c.at_ms.reset();
    Fired f{std::move(s), Change{}, std::nullopt};
    auto result = apply_now(c, now_ms, asset_exists, ops);
    if (auto* e = std::get_if<CommandError>(&result)) f.error = *e;
    f.change.version = ++version_;
    f.change.ops = std::move(ops);
    fired.push_back(std::move(f));
  }
  return fired;
}

std::optional<int64_t> OverlayState::next_due_ms() const {
  if (scheduled_.empty()) return std::nullopt;
  return scheduled_.front().at_ms;
}

std::string OverlayState::overlays_json(int64_t now_ms) const {
  json list = json::array();
  for (const auto& r : overlays_)
    if (visible(r, now_ms)) list.push_back(view_json(r, now_ms));
  return list.dump();
}

std::string OverlayState::scheduled_json() const {
  json list = json::array();
  for (const auto& s : scheduled_)
    list.push_back({{"id", s.id}, {"at_ms", s.at_ms}, {"command", json::parse(control::command_to_json(s.command))}});
  return list.dump();
}

void OverlayState::restore(uint64_t version, const std::vector<std::string>& overlay_docs,
                           const std::vector<std::pair<std::string, std::string>>& scheduled_docs) {
  version_ = version;
  overlays_.clear();
  scheduled_.clear();
  for (const auto& doc : overlay_docs)
    if (auto r = record_from_json(doc)) overlays_.push_back(std::move(*r));
  std::sort(overlays_.begin(), overlays_.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& [id, doc] : scheduled_docs) {
    auto parsed = control::parse_command(doc);
    if (!parsed.ok() || !parsed.command().at_ms) continue;
    scheduled_.push_back(ScheduledCommand{id, *parsed.command().at_ms, parsed.command()});
  }
  std::stable_sort(scheduled_.begin(), scheduled_.end(),
                   [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
}

}  // namespace anchorcast::overlay
