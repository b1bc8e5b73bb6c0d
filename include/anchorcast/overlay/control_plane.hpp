// The merchant control plane: authorisation, the per-stream overlay state, its durable
// store and the fan-out of `applied` events to every merchant of a stream. One writer
// thread applies commands from all merchants of all streams and commits them in one
// SQLite transaction per batch (group commit); replies are sent after the commit.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/result.hpp"
#include "anchorcast/overlay/asset_info.hpp"

namespace anchorcast {

class Hub;
class Metrics;
class OffloadThread;
class Stream;
namespace control {
struct Command;
struct DecodedImage;
}

// A merchant's connection as the control plane sees it. deliver() is called from any
// thread and must only queue the text (e.g. post it to the socket's thread).
class MerchantLink {
 public:
  virtual ~MerchantLink() = default;
  virtual void deliver(std::string message) = 0;
};

class ControlPlane {
 public:
  ControlPlane(Hub& hub, Metrics& metrics, const Config& config);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Opens data_dir (created when missing) and loads streams, assets and overlay state.
  Status open();
  // Streams created through the admin API, minus those whose id the config defines
  // (the config wins). The caller adds them to the hub.
  std::vector<StreamConfig> stored_streams() const;
  void start();  // the writer thread
  void flush();  // returns once every submitted command is committed and replied to
  void stop();   // flush, then join the writer

  // Authorisation (constant-time compares).
  bool merchant_allowed(std::string_view stream, std::string_view token) const;
  // The same for a request: the token of `Authorization: Bearer …`, else of ?token=….
  bool merchant_allowed(std::string_view stream, const std::optional<std::string>& authorization,
                        const std::optional<std::string>& query_token) const;
  bool origin_allowed(const std::optional<std::string>& origin) const;
  bool admin_allowed(const std::optional<std::string>& authorization_header) const;
  int rate_limit_per_s() const;

  // A merchant joins a stream: returns the `state` message and registers `link` for
  // `applied` events (atomically: no event is missed or sent twice in between).
  std::string connect(const std::string& stream, std::shared_ptr<MerchantLink> link);
  void disconnect(const std::string& stream, const MerchantLink* link);
  // Applies (or schedules) a validated command; `reply` gets the ack or error text once
  // it is durable. Replies come in submission order.
  void submit(const std::string& stream, control::Command command, std::function<void(std::string)> reply);
  size_t overlay_count(std::string_view stream) const;
  // Viewer stats (anchorcast/overlay/audience.hpp): how many merchants a stream has, and a message
  // for each of them (queued like `applied` events).
  size_t merchant_count(const std::string& stream) const;
  void send_to_merchants(const std::string& stream, const std::string& message);

  // Admin API (blocking until committed).
  Result<std::shared_ptr<Stream>> create_stream(const StreamConfig& stream);
  Status delete_stream(const std::string& id);
  Result<AssetInfo> add_asset(std::string bytes);  // validated by its image header
  std::vector<AssetInfo> assets() const;
  std::optional<std::pair<std::string, std::string>> asset(const std::string& id) const;  // (mime, bytes)

  // The same off the caller's thread: `done` runs on the control plane's offload thread,
  // so full image decodes and waits for a commit never hold up the HTTP thread.
  void create_stream(StreamConfig stream, std::function<void(Result<std::shared_ptr<Stream>>)> done);
  void delete_stream(std::string id, std::function<void(Status)> done);
  void add_asset(std::string bytes, std::function<void(Result<AssetInfo>)> done);
  // The full decode of a merchant's image (its header is already checked); `done` runs on
  // the offload thread.
  void verify_image(std::shared_ptr<const control::DecodedImage> image, std::function<void(Status)> done);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<OffloadThread> offload_;  // declared after impl_: joined before it goes
};

}  // namespace anchorcast
