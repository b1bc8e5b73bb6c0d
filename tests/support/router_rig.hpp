// A Router wired to a real Hub, HLS endpoint and ControlPlane over a temporary data_dir:
// the rig the Router's control-channel, admin and stream-API tests share. Streams "demo"
// (token tok-demo) and "other" (tok-other), both metadata, admin token "admin-secret";
// `tweak` adjusts the config before anything opens.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "anchorcast/overlay/control_plane.hpp"
#include "relay/http/hls_endpoint.hpp"
#include "relay/http/router.hpp"

namespace anchorcast::test_support {

class RouterRig {
 public:
  explicit RouterRig(const std::string& name, const std::function<void(Config&)>& tweak = {})
      : dir_(std::filesystem::temp_directory_path() / ("anchorcast-" + name + "-" + std::to_string(::getpid()))),
        config_(make_config(dir_.string(), tweak)),
        hls_(hub_, HlsConfig{}, [this](std::function<void()> task) { posted_.push_back(std::move(task)); }),
        control_(hub_, metrics_, config_),
        router_(hub_, metrics_, hls_, &control_) {
    for (const auto& s : config_.streams) EXPECT_TRUE(hub_.add(s.id, s.publish_key).ok());
    EXPECT_TRUE(control_.open().ok());
    control_.start();
  }
  ~RouterRig() {
    control_.stop();
    std::filesystem::remove_all(dir_);
  }
  RouterRig(const RouterRig&) = delete;
  RouterRig& operator=(const RouterRig&) = delete;

  // A DeferredResponse waited for and answered here, as the server's thread would.
  static RouteResult settle(RouteResult result) {
    auto* deferred = std::get_if<DeferredResponse>(&result);
    if (!deferred) return result;
    std::promise<std::function<HttpResponse()>> answered;
    auto answer = answered.get_future();
    deferred->start([&answered](std::function<HttpResponse()> a) { answered.set_value(std::move(a)); });
    return answer.get()();
  }

 protected:
  static Config make_config(const std::string& dir, const std::function<void(Config&)>& tweak) {
    std::filesystem::remove_all(dir);
    Config c;
    c.data_dir = dir;
    c.admin_token = "admin-secret";
    c.streams.push_back(StreamConfig{"demo", "demo-key", OverlayMode::metadata, {"tok-demo"}});
    c.streams.push_back(StreamConfig{"other", "other-key", OverlayMode::metadata, {"tok-other"}});
    if (tweak) tweak(c);
    return c;
  }

  std::filesystem::path dir_;
  Config config_;
  std::vector<std::function<void()>> posted_;  // HLS drains, run by hand (no HTTP thread)
  Hub hub_;
  Metrics metrics_;
  HlsEndpoint hls_;
  ControlPlane control_;
  Router router_;
};

}  // namespace anchorcast::test_support
