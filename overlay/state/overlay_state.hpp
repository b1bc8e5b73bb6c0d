// One stream's overlay state as a pure state machine: commands in (with the time they
// take effect), a new version and the rows to persist out. No SQLite, no clock, no
// threads: OverlayStore persists the rows, ControlPlane serialises access.
//
// Rules: a card with an existing id is replaced in place; `duration_ms` > 0 hides a card
// at shown_at + duration. A sale counts down to a wall-clock `ends_at_ms`; at stock 0 it
// is `sold_out`, past its end (or after sale.end) it is `ended` and stays listed as ended
// until hidden, cleared or replaced (the renderer decides how long "ended" shows). At
// most 32 visible overlays. A command with `at_ms` in the future is scheduled instead
// (durable, listed, cancellable by id); every accepted command bumps the version by one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "overlay/control/command.hpp"

namespace anchorcast::overlay {

constexpr size_t kMaxOverlays = 32;
constexpr size_t kMaxScheduled = 256;

struct OverlayRecord {
  control::Overlay overlay;
  int64_t order = 0;         // list position: the version that first showed this id
  int64_t shown_at_ms = 0;
  int64_t ends_at_ms = 0;    // 0: no end (cards with duration 0)
  bool ended = false;        // sale.end
};

struct ScheduledCommand {
  std::string id;  // "sch-<version>"
  int64_t at_ms = 0;
  control::Command command;
};

// A row change for the store, in order.
struct StoreOp {
  enum class Kind {
    put_overlay, delete_overlay, clear_overlays, put_scheduled, delete_scheduled, put_asset,
    put_stream, delete_stream  // admin API: doc is the stream's config JSON
  };
  Kind kind;
  std::string id;
  std::string doc;   // JSON (overlay record or command)
  int64_t order_or_at = 0;
  std::shared_ptr<const control::DecodedImage> image;  // put_asset
};

struct Change {
  uint64_t version = 0;
  std::string schedule_id;  // set when the command was scheduled, not applied
  std::vector<StoreOp> ops;
};

using ApplyResult = std::variant<Change, control::CommandError>;
using AssetExists = std::function<bool(std::string_view id)>;

class OverlayState {
 public:
  // `now_ms` is wall-clock Unix ms.
  ApplyResult apply(const control::Command& command, int64_t now_ms, const AssetExists& asset_exists);

  // Runs every scheduled command due at `now_ms` (at_ms order). Each yields a Change (its
  // row is deleted even when the command fails then, e.g. the card is gone).
  struct Fired {
    ScheduledCommand scheduled;
    Change change;
    std::optional<control::CommandError> error;
  };
  std::vector<Fired> run_due(int64_t now_ms, const AssetExists& asset_exists);
  std::optional<int64_t> next_due_ms() const;

  uint64_t version() const { return version_; }
  // Every listed overlay in list order, including cards past their end not yet purged:
  // readers decide visibility at their own instant (the compositor does, per frame).
  const std::vector<OverlayRecord>& records() const { return overlays_; }
  size_t visible_count(int64_t now_ms) const;
  // The contract's `state` lists: overlays (visible, in list order) and scheduled.
  std::string overlays_json(int64_t now_ms) const;
  std::string scheduled_json() const;

  // Restore from stored rows (OverlayStore::load).
  void restore(uint64_t version, const std::vector<std::string>& overlay_docs,
               const std::vector<std::pair<std::string, std::string>>& scheduled_docs);  // (id, command JSON)

  static std::string record_to_json(const OverlayRecord& r);
  static std::optional<OverlayRecord> record_from_json(std::string_view doc);

 private:
  static std::optional<OverlayRecord> record_from_json_or_throw(std::string_view doc);
  ApplyResult apply_now(const control::Command& command, int64_t now_ms, const AssetExists& asset_exists,
                        std::vector<StoreOp>& ops);
  bool visible(const OverlayRecord& r, int64_t now_ms) const;
  void purge_expired(int64_t now_ms, std::vector<StoreOp>& ops);
  OverlayRecord* find(const std::string& id);

  uint64_t version_ = 0;
  std::vector<OverlayRecord> overlays_;  // list order
  std::vector<ScheduledCommand> scheduled_;
};

}  // namespace anchorcast::overlay
