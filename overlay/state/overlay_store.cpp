#include "overlay/state/overlay_store.hpp"

#include <sqlite3.h>

#include <filesystem>

namespace anchorcast::overlay {

namespace {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

Error db_error(sqlite3* db, const std::string& what) { return make_error(what + ": " + sqlite3_errmsg(db)); }

Result<Stmt> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    return db_error(db, "sqlite prepare");
  return Stmt(s);
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* s, int i) {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS streams(id TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assets(id TEXT PRIMARY KEY, mime TEXT NOT NULL, width INTEGER NOT NULL,
                                  height INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS overlay_versions(stream TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS overlays(stream TEXT NOT NULL, id TEXT NOT NULL, ord INTEGER NOT NULL,
                                    doc TEXT NOT NULL, PRIMARY KEY(stream, id));
CREATE TABLE IF NOT EXISTS scheduled(stream TEXT NOT NULL, id TEXT NOT NULL, at_ms INTEGER NOT NULL,
                                     doc TEXT NOT NULL, PRIMARY KEY(stream, id));
)sql";

}  // namespace

Result<std::unique_ptr<OverlayStore>> OverlayStore::open(const std::string& data_dir, bool fsync) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return make_error("data_dir '" + data_dir + "': " + ec.message());
  std::string path = (std::filesystem::path(data_dir) / "anchorcast.db").string();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<OverlayStore> store(new OverlayStore(db));
  if (rc != SQLITE_OK) return db_error(db, "data_dir: cannot open " + path);
  sqlite3_busy_timeout(db, 5000);
  // WAL: readers never block the writer; synchronous=FULL: a commit that returned is on
  // disk (an ack means durable, even across power loss); NORMAL: in the OS page cache
  // (survives the process, not the machine), fsync only at checkpoints.
  for (const char* sql : {"PRAGMA journal_mode=WAL", fsync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                          kSchema})
    if (auto st = store->exec(sql); !st) return make_error("data_dir: " + path + ": " + st.error().message);
  return store;
}

OverlayStore::~OverlayStore() {
  for (auto& [sql, s] : statements_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

Status OverlayStore::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "sqlite error";
    sqlite3_free(msg);
    return make_error(m);
  }
  return {};
}

sqlite3_stmt* OverlayStore::cached(const char* sql) {
  // Statements of commit() are prepared once (keyed by their literal's address).
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  auto s = prepare(db_, sql);
  if (!s) return nullptr;
  return statements_[sql] = s->release();
}

Status OverlayStore::commit(const std::vector<StoreWrite>& writes) {
  std::lock_guard lock(mutex_);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  auto fail = [&](const std::string& what) -> Status {
    Error e = db_error(db_, what);
    (void)exec("ROLLBACK");
    return e;
  };
  auto step = [&](sqlite3_stmt* s) -> bool {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
  };
  for (const auto& w : writes) {
    for (const auto& op : w.ops) {
      sqlite3_stmt* s = nullptr;
      switch (op.kind) {
        case StoreOp::Kind::put_overlay:
          s = cached("INSERT OR REPLACE INTO overlays(stream,id,ord,doc) VALUES(?,?,?,?)");
          if (!s) return fail("store");
          bind_text(s, 1, w.stream);
          bind_text(s, 2, op.id);
          sqlite3_bind_int64(s, 3, op.order_or_at);
          bind_text(s, 4, op.doc);
          break;
        case StoreOp::Kind::delete_overlay:
          s = cached("DELETE FROM overlays WHERE stream=? AND id=?");
          if (!s) return fail("store");
          bind_text(s, 1, w.stream);
          bind_text(s, 2, op.id);
          break;
        case StoreOp::Kind::clear_overlays:
          s = cached("DELETE FROM overlays WHERE stream=?");
          if (!s) return fail("store");
          bind_text(s, 1, w.stream);
          break;
        case StoreOp::Kind::put_scheduled:
          s = cached("INSERT OR REPLACE INTO scheduled(stream,id,at_ms,doc) VALUES(?,?,?,?)");
          if (!s) return fail("store");
          bind_text(s, 1, w.stream);
          bind_text(s, 2, op.id);
          sqlite3_bind_int64(s, 3, op.order_or_at);
          bind_text(s, 4, op.doc);
          break;
        case StoreOp::Kind::delete_scheduled:
          s = cached("DELETE FROM scheduled WHERE stream=? AND id=?");
          if (!s) return fail("store");
          bind_text(s, 1, w.stream);
          bind_text(s, 2, op.id);
          break;
        case StoreOp::Kind::put_asset:
          if (!op.image) continue;
          s = cached("INSERT OR IGNORE INTO assets(id,mime,width,height,bytes) VALUES(?,?,?,?,?)");
          if (!s) return fail("store");
          bind_text(s, 1, op.id);
          bind_text(s, 2, op.image->info.mime);
          sqlite3_bind_int(s, 3, op.image->info.width);
          sqlite3_bind_int(s, 4, op.image->info.height);
          sqlite3_bind_blob(s, 5, op.image->bytes.data(), static_cast<int>(op.image->bytes.size()),
                            SQLITE_TRANSIENT);
          break;
        case StoreOp::Kind::put_stream:
          s = cached("INSERT OR REPLACE INTO streams(id,config) VALUES(?,?)");
          if (!s) return fail("store");
          bind_text(s, 1, op.id);
          bind_text(s, 2, op.doc);
          break;
        case StoreOp::Kind::delete_stream:
          for (const char* sql : {"DELETE FROM streams WHERE id=?", "DELETE FROM overlays WHERE stream=?",
                                  "DELETE FROM scheduled WHERE stream=?", "DELETE FROM overlay_versions WHERE stream=?"}) {
            auto* d = cached(sql);
            if (!d) return fail("store");
            bind_text(d, 1, op.id);
            if (!step(d)) return fail("store delete stream");
          }
          continue;
      }
      if (!step(s)) return fail("store write");
    }
    if (w.version > 0) {
      auto s = cached("INSERT OR REPLACE INTO overlay_versions(stream,version) VALUES(?,?)");
      if (!s) return fail("store");
      bind_text(s, 1, w.stream);
      sqlite3_bind_int64(s, 2, static_cast<int64_t>(w.version));
      if (!step(s)) return fail("store version");
    }
  }
  if (auto st = exec("COMMIT"); !st) {
    (void)exec("ROLLBACK");
    return st;
  }
  return {};
}

Result<std::map<std::string, StoredOverlays>> OverlayStore::load_overlays() {
  std::lock_guard lock(mutex_);
  std::map<std::string, StoredOverlays> out;
  auto v = prepare(db_, "SELECT stream, version FROM overlay_versions");
  if (!v) return v.error();
  while (sqlite3_step(v->get()) == SQLITE_ROW)
    out[column_text(v->get(), 0)].version = static_cast<uint64_t>(sqlite3_column_int64(v->get(), 1));
  auto o = prepare(db_, "SELECT stream, doc FROM overlays ORDER BY stream, ord");
  if (!o) return o.error();
  while (sqlite3_step(o->get()) == SQLITE_ROW) out[column_text(o->get(), 0)].overlays.push_back(column_text(o->get(), 1));
  auto s = prepare(db_, "SELECT stream, id, doc FROM scheduled ORDER BY stream, at_ms");
  if (!s) return s.error();
  while (sqlite3_step(s->get()) == SQLITE_ROW)
    out[column_text(s->get(), 0)].scheduled.emplace_back(column_text(s->get(), 1), column_text(s->get(), 2));
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> OverlayStore::load_streams() {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, std::string>> out;
  auto s = prepare(db_, "SELECT id, config FROM streams ORDER BY rowid");
  if (!s) return s.error();
  while (sqlite3_step(s->get()) == SQLITE_ROW) out.emplace_back(column_text(s->get(), 0), column_text(s->get(), 1));
  return out;
}

Result<std::vector<AssetInfo>> OverlayStore::list_assets() {
  std::lock_guard lock(mutex_);
  std::vector<AssetInfo> out;
  auto s = prepare(db_, "SELECT id, mime, width, height, length(bytes) FROM assets ORDER BY rowid");
  if (!s) return s.error();
  while (sqlite3_step(s->get()) == SQLITE_ROW)
    out.push_back(AssetInfo{column_text(s->get(), 0), column_text(s->get(), 1), sqlite3_column_int(s->get(), 2),
                            sqlite3_column_int(s->get(), 3), sqlite3_column_int64(s->get(), 4)});
  return out;
}

Result<std::optional<std::pair<std::string, std::string>>> OverlayStore::read_asset(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto s = prepare(db_, "SELECT mime, bytes FROM assets WHERE id=?");
  if (!s) return s.error();
  bind_text(s->get(), 1, id);
  if (sqlite3_step(s->get()) != SQLITE_ROW) return std::optional<std::pair<std::string, std::string>>();
  auto* blob = static_cast<const char*>(sqlite3_column_blob(s->get(), 1));
  std::string bytes(blob ? blob : "", static_cast<size_t>(sqlite3_column_bytes(s->get(), 1)));
  return std::optional(std::pair(column_text(s->get(), 0), std::move(bytes)));
}

}  // namespace anchorcast::overlay
