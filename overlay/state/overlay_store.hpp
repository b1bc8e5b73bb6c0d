// Durable state in `data_dir/anchorcast.db` (SQLite, WAL, synchronous=FULL by default): streams
// created through the admin API, uploaded assets, each stream's overlays, version and
// scheduled commands. `commit` writes many streams' changes in one transaction: the
// ControlPlane's writer thread batches every waiting command into it (group commit), so
// one fsync covers them all.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "anchorcast/overlay/asset_info.hpp"
#include "overlay/state/overlay_state.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace anchorcast::overlay {

struct StoreWrite {
  std::string stream;
  uint64_t version = 0;  // 0: leave the stream's version row alone (admin writes)
  std::vector<StoreOp> ops;
};

struct StoredOverlays {
  uint64_t version = 0;
  std::vector<std::string> overlays;                           // record docs
  std::vector<std::pair<std::string, std::string>> scheduled;  // (id, command JSON)
};

class OverlayStore {
 public:
  // Creates the folder and the schema when missing. `fsync`: synchronous=FULL (else NORMAL).
  static Result<std::unique_ptr<OverlayStore>> open(const std::string& data_dir, bool fsync = true);
  ~OverlayStore();
  OverlayStore(const OverlayStore&) = delete;
  OverlayStore& operator=(const OverlayStore&) = delete;

  Status commit(const std::vector<StoreWrite>& writes);  // one transaction, durable on return

  Result<std::map<std::string, StoredOverlays>> load_overlays();
  Result<std::vector<std::pair<std::string, std::string>>> load_streams();  // (id, config JSON)
  Result<std::vector<AssetInfo>> list_assets();
  Result<std::optional<std::pair<std::string, std::string>>> read_asset(const std::string& id);  // (mime, bytes)

 private:
  explicit OverlayStore(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  sqlite3_stmt* cached(const char* sql);  // null on a prepare error
  std::mutex mutex_;
  sqlite3* db_;
  std::map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace anchorcast::overlay
