// The config file (JSON with // comments), validated into plain values. Errors name the
// offending key: "streams[1].publish_key: missing".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast {

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

enum class OverlayMode { burn_in, metadata };

struct StreamConfig {
  std::string id;
  std::string publish_key;
  OverlayMode overlay = OverlayMode::burn_in;
  std::vector<std::string> merchant_tokens;
};

struct HlsConfig {
  int target_duration_ms = 1000;  // segments are cut on the first keyframe past this
  int window_segments = 6;        // segments listed in the live playlist
};

// The merchant control channel (extension): commands per second per connection, and the
// browser origins allowed to open it (empty: any).
struct ControlConfig {
  int rate_limit_per_s = 50;
  std::vector<std::string> allowed_origins;
  // SQLite synchronous mode of the overlay store: true = FULL (an ack survives power
  // loss: one fsync per group commit), false = NORMAL (an ack survives a crash of the
  // process, e.g. kill -9, not of the machine; no fsync per commit).
  bool fsync = true;
};

struct Config {
  ListenAddress http{"0.0.0.0", 8080};
  ListenAddress rtmp{"0.0.0.0", 1935};
  ListenAddress srt{"0.0.0.0", 9000};
  int srt_latency_ms = 120;
  std::string srt_passphrase;  // empty: no encryption; else 10..79 characters
  ListenAddress webrtc{"0.0.0.0", 8000};
  std::string webrtc_public_ip = "127.0.0.1";
  // UDP GSO for runs of equal-sized datagrams to one viewer (used only where the kernel
  // has it); false for a network path that mishandles it.
  bool webrtc_udp_gso = true;
  // Data-plane loops (RTMP publish and play today); 0 = one per core.
  int data_plane_threads = 0;
  // A loop writes its viewers' new media at most once per this many ms (0: as it comes):
  // fewer, larger writes for the CPU, at most this much more delivery delay.
  int data_plane_write_batch_ms = 0;
  std::string data_dir = "./data";
  std::string admin_token;
  std::string log_level = "info";
  HlsConfig hls;
  ControlConfig control;
  std::vector<StreamConfig> streams;
};

Result<Config> parse_config(std::string_view json_text);
Result<Config> load_config(const std::string& path);

bool is_valid_stream_id(std::string_view id);  // [A-Za-z0-9_-]{1,64}

// One stream object as in the config's "streams" array (the admin API's POST body, and
// how the store keeps streams created through it); errors name the key ("publish_key: missing").
Result<StreamConfig> parse_stream_config(std::string_view json_text);
std::string stream_config_to_json(const StreamConfig& stream);

}  // namespace anchorcast
