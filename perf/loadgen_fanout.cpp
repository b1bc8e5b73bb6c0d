// Fan-out load generator (issue 2): thousands of RTMP-play or HTTP-FLV viewers on one libuv
// thread. It shares a 2-core machine with the server it measures, so the receive path only
// counts bytes: HTTP-FLV bodies are never parsed, and RTMP chunks are walked header to
// header with media payloads skipped (only the few control and command messages a client
// must answer are reassembled). Output, line-buffered, key=value so a driver can parse it:
//
//   tick t=… connected=… setup=… failed=… closed=… mbps=… min_kbps=… p10_kbps=… median_kbps=…
//   window_start t=… viewers=…
//   summary window_s=… viewers=… still_playing=… setup=… all_joined_t=… failed=… closed=…
//           below_keepup=… mbps=… min_kbps=… p10_kbps=… median_kbps=… lg_cpu_pct=…
//           delay_viewers=… delay_samples=… delay_p50_ms=… delay_p99_ms=… delay_max_ms=…
//   reason count=… what=…
//
// "closed" counts viewers the server closed after they were playing; "failed" counts
// viewers that never got to play (refused, bad status, timeout). The summary's rates are
// per viewer over the window, which opens once every viewer has joined. --self-test
// checks the chunk walker against the relay's ChunkReader.
//
// Delivery delay: every K-th viewer (--delay-every K) reads each server write as it comes
// (no SO_RCVLOWAT) and notes, per audio/video message in the window, its arrival time
// minus its timestamp. The publisher (ffmpeg -re) sends each message when the wall clock
// reaches its timestamp, so that difference is the delay plus a constant; the constant
// goes by subtracting the viewer's smallest difference in the window (per viewer: SRS
// restarts timestamps per viewer). The delay_* figures are thus delivery delay above
// that viewer's fastest message, pooled over the timed viewers: what queueing and write
// batching add, not the network's fixed part (zero on loopback).

#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <uv.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/protocol/rtmp/chunk_reader.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"
#include "relay/protocol/rtmp/handshake.hpp"
#include "relay/protocol/rtmp/messages.hpp"

namespace {

// ---------------------------------------------------------------------------------------
// Options and target URL

enum class Protocol { kRtmp, kFlv };

struct Options {
  Protocol protocol = Protocol::kRtmp;
  std::string url;
  uint32_t viewers = 100;
  double ramp_per_s = 500;      // new connections per second
  double duration_s = 30;       // whole run, ramp included
  double interval_s = 1;        // report interval
  double measure_from_s = -1;   // earliest start of the summary window; default: ramp end + 3 s
  double window_s = 0;          // window length (the run then ends early); 0: until --duration
  double join_wait_s = 20;      // the window waits up to this long past --measure-from for
                                // every viewer to finish setting up
  double setup_timeout_s = 10;  // connect..playing, else the viewer counts as failed
  int rcvlowat = 16384;         // SO_RCVLOWAT once playing (see enter_playing)
  double keepup_kbps = 0;       // summary counts window viewers below this rate
  uint32_t max_pending = 0;     // cap on viewers setting up at once (0: none)
  uint32_t delay_every = 10;    // every K-th viewer measures delivery delay (0: none)
};

struct Target {
  uint16_t port = 0;
  std::string path;    // HTTP request target
  std::string app;     // RTMP application ("live")
  std::string stream;  // RTMP stream name
  std::string tc_url;  // RTMP tcUrl
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "loadgen_fanout: %s\n", message.c_str());
  std::exit(2);
}

void usage() {
  std::fprintf(stderr,
               "usage: loadgen_fanout --protocol rtmp|flv --url URL [--viewers N] [--ramp PER_S]\n"
               "                      [--duration S] [--interval S] [--measure-from S] [--window S]\n"
               "                      [--join-wait S] [--max-pending N]\n"
               "                      [--setup-timeout S] [--rcvlowat BYTES] [--keepup-kbps K]\n"
               "                      [--delay-every K]\n"
               "       loadgen_fanout --self-test\n"
               "  rtmp URL: rtmp://127.0.0.1:PORT/APP/STREAM\n"
               "  flv URL:  http://127.0.0.1:PORT/flv/ID.flv\n");
}

double parse_number(std::string_view key, std::string_view text, double lo, double hi) {
  char* end = nullptr;
  std::string s(text);
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !(v >= lo && v <= hi)) {
    die(std::string(key) + ": expected a number in [" + std::to_string(lo) + ", " +
        std::to_string(hi) + "], got '" + s + "'");
  }
  return v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view key = argv[i];
    if (key == "--help" || key == "-h") {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc) {
      usage();
      die(std::string(key) + ": missing value");
    }
    std::string_view value = argv[++i];
    if (key == "--protocol") {
      if (value == "rtmp") o.protocol = Protocol::kRtmp;
      else if (value == "flv") o.protocol = Protocol::kFlv;
      else die("--protocol: expected rtmp or flv");
    } else if (key == "--url") {
      o.url = value;
    } else if (key == "--viewers") {
      o.viewers = static_cast<uint32_t>(parse_number(key, value, 1, 1000000));
    } else if (key == "--ramp") {
      o.ramp_per_s = parse_number(key, value, 1, 100000);
    } else if (key == "--duration") {
      o.duration_s = parse_number(key, value, 1, 86400);
    } else if (key == "--interval") {
      o.interval_s = parse_number(key, value, 0.1, 3600);
    } else if (key == "--measure-from") {
      o.measure_from_s = parse_number(key, value, 0, 86400);
    } else if (key == "--window") {
      o.window_s = parse_number(key, value, 0.5, 86400);
    } else if (key == "--join-wait") {
      o.join_wait_s = parse_number(key, value, 0, 3600);
    } else if (key == "--setup-timeout") {
      o.setup_timeout_s = parse_number(key, value, 0.5, 3600);
    } else if (key == "--max-pending") {
      o.max_pending = static_cast<uint32_t>(parse_number(key, value, 0, 1000000));
    } else if (key == "--keepup-kbps") {
      o.keepup_kbps = parse_number(key, value, 0, 1e7);
    } else if (key == "--delay-every") {
      o.delay_every = static_cast<uint32_t>(parse_number(key, value, 0, 1000000));
    } else if (key == "--rcvlowat") {
      o.rcvlowat = static_cast<int>(parse_number(key, value, 1, 1 << 20));
    } else {
      usage();
      die("unknown option " + std::string(key));
    }
  }
  if (o.url.empty()) {
    usage();
    die("--url is required");
  }
  if (o.measure_from_s < 0) o.measure_from_s = o.viewers / o.ramp_per_s + 3;
  if (o.measure_from_s >= o.duration_s) {
    die("--measure-from must be before the end of --duration (ramp takes " +
        std::to_string(o.viewers / o.ramp_per_s) + " s)");
  }
  return o;
}

// A load generator aimed elsewhere is a traffic cannon: only loopback is accepted.
Target parse_target(const Options& o) {
  std::string_view url = o.url;
  std::string_view scheme = o.protocol == Protocol::kRtmp ? "rtmp://" : "http://";
  if (url.substr(0, scheme.size()) != scheme) {
    die("--url must start with " + std::string(scheme) + " for this protocol");
  }
  url.remove_prefix(scheme.size());
  constexpr std::string_view kHost = "127.0.0.1";
  if (url.substr(0, kHost.size()) != kHost) die("--url: only 127.0.0.1 is allowed as a target");
  url.remove_prefix(kHost.size());
  Target t;
  t.port = o.protocol == Protocol::kRtmp ? 1935 : 80;
  if (!url.empty() && url.front() == ':') {
    url.remove_prefix(1);
    size_t slash = url.find('/');
    std::string_view port_text = url.substr(0, slash);
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      die("--url: bad port '" + std::string(port_text) + "'");
    }
    t.port = static_cast<uint16_t>(port);
    url.remove_prefix(slash == std::string_view::npos ? url.size() : slash);
  }
  if (url.empty() || url.front() != '/') die("--url: missing path");
  t.path = url;
  if (o.protocol == Protocol::kRtmp) {
    std::string_view rest = url.substr(1);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
      die("--url: RTMP path must be /APP/STREAM");
    }
    t.app = rest.substr(0, slash);
    t.stream = rest.substr(slash + 1);
    t.tc_url = "rtmp://127.0.0.1:" + std::to_string(t.port) + "/" + t.app;
  }
  return t;
}

// ---------------------------------------------------------------------------------------
// The cheap RTMP receive path. Handshake, command encoding and parsing come from the
// relay's own stack (relay/protocol/rtmp/); only reading differs: ChunkReader reassembles
// every message (a copy of every media byte), which is what a server needs and a load
// generator cannot afford, so this walker parses chunk headers and skips media payloads.

namespace rtmp = anchorcast::rtmp;
namespace msg = anchorcast::rtmp::msg;

uint32_t be24(const uint8_t* p) { return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]; }
uint32_t be32(const uint8_t* p) { return be24(p) << 8 | p[3]; }
uint32_t le32(const uint8_t* p) {
  return p[0] | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// Walks one connection's chunk stream (RTMP spec 5.3): every chunk header is parsed and
// the chunk size and per-chunk-stream state are kept, but only protocol control and
// command messages are reassembled; audio/video/data payloads are skipped uncopied. Cost
// is per chunk header (every 4 KiB at nginx-rtmp's default chunk size), not per byte.
class ChunkWalker {
 public:
  static constexpr uint32_t kMaxChunkSize = 1u << 24;  // the relay's reader cap
  static constexpr size_t kMaxKeptMessage = 1u << 16;  // commands are small
  static constexpr size_t kMaxChunkStreams = 32;       // servers use a handful

  ChunkWalker() { streams_.reserve(4); }

  // Feeds bytes; calls sink(const rtmp::Message&) for each complete message (skipped
  // media with an empty payload) and stops early when sink returns false. Returns an
  // error text, or nullptr. The message is valid only during the call.
  template <class Sink>
  const char* feed(const uint8_t* p, size_t n, Sink&& sink) {
    const uint8_t* end = p + n;
    while (p < end) {
      if (chunk_left_ > 0) {
        ChunkStream& cs = streams_[cur_];
        size_t take = std::min<size_t>(chunk_left_, size_t(end - p));
        if (cs.keep) cs.message.payload.insert(cs.message.payload.end(), p, p + take);
        p += take;
        chunk_left_ -= uint32_t(take);
        cs.remaining -= uint32_t(take);
        if (cs.remaining == 0) {
          bool more = true;
          if (const char* err = complete(cs, sink, more)) return err;
          if (!more) return nullptr;
        }
        continue;
      }
      // Header bytes: copy only up to the next boundary the known bytes determine.
      size_t want = header_bytes_wanted();
      size_t take = std::min(want - hdr_len_, size_t(end - p));
      std::memcpy(hdr_ + hdr_len_, p, take);
      hdr_len_ += uint8_t(take);
      p += take;
      if (hdr_len_ < want || hdr_len_ < header_bytes_wanted()) continue;
      if (const char* err = on_header()) return err;
      if (streams_[cur_].remaining == 0) {  // zero-length message: no payload follows
        bool more = true;
        if (const char* err = complete(streams_[cur_], sink, more)) return err;
        if (!more) return nullptr;
      }
    }
    return nullptr;
  }

 private:
  struct ChunkStream {
    uint32_t csid = 0;
    uint32_t length = 0;
    uint32_t remaining = 0;  // payload bytes still to come for the current message
    uint32_t timestamp = 0;  // of the current message (5.3.1.2: fmt 0 absolute, 1-3 deltas)
    uint32_t delta = 0;      // what a fmt 3 header starting a message adds (fmt 0: its value, as FFmpeg)
    bool ext_ts = false;     // last fmt 0-2 header had an extended timestamp; fmt 3 repeats it
    bool keep = false;
    rtmp::Message message;   // type, stream id, and the payload when kept
  };

  static bool kept(uint8_t type) {
    return type <= msg::kSetPeerBandwidth || type == msg::kCommandAmf0 || type == msg::kCommandAmf3;
  }

  static size_t basic_size(uint8_t first) {
    uint8_t low = first & 0x3f;
    return low == 0 ? 2 : low == 1 ? 3 : 1;  // 5.3.1.1
  }

  // How many header bytes the header being read needs, from what is known so far.
  size_t header_bytes_wanted() const {
    if (hdr_len_ == 0) return 1;
    size_t basic = basic_size(hdr_[0]);
    if (hdr_len_ < basic) return basic;
    static constexpr size_t kMessageHeader[4] = {11, 7, 3, 0};  // 5.3.1.2
    uint8_t fmt = hdr_[0] >> 6;
    size_t base = basic + kMessageHeader[fmt];
    if (hdr_len_ < base) return base;
    bool ext;
    if (fmt < 3) {
      ext = be24(hdr_ + basic) == 0xFFFFFF;  // 5.3.1.3
    } else {
      int i = find(csid_of_header(basic));
      ext = i >= 0 && streams_[size_t(i)].ext_ts;
    }
    return base + (ext ? 4 : 0);
  }

  uint32_t csid_of_header(size_t basic) const {
    if (basic == 1) return hdr_[0] & 0x3f;
    if (basic == 2) return 64u + hdr_[1];
    return 64u + hdr_[1] + 256u * hdr_[2];
  }

  int find(uint32_t csid) const {
    for (size_t i = 0; i < streams_.size(); ++i)
      if (streams_[i].csid == csid) return int(i);
    return -1;
  }

  const char* on_header() {
    uint8_t fmt = hdr_[0] >> 6;
    size_t basic = basic_size(hdr_[0]);
    uint32_t csid = csid_of_header(basic);
    hdr_len_ = 0;
    int index = find(csid);
    if (index < 0) {
      if (fmt != 0) return "chunk stream starts without a type-0 header";
      if (streams_.size() >= kMaxChunkStreams) return "too many chunk streams";
      index = int(streams_.size());
      streams_.emplace_back();
      streams_.back().csid = csid;
      streams_.back().message.csid = csid;
    }
    ChunkStream& cs = streams_[size_t(index)];
    const uint8_t* mh = hdr_ + basic;
    if (fmt < 3 && cs.remaining != 0) return "new message header inside an unfinished message";
    static constexpr size_t kMessageHeader[4] = {11, 7, 3, 0};
    switch (fmt) {
      case 0:
        cs.message.stream_id = le32(mh + 7);
        [[fallthrough]];
      case 1:
        cs.length = be24(mh + 3);
        cs.message.type_id = mh[6];
        [[fallthrough]];
      case 2: {
        cs.ext_ts = be24(mh) == 0xFFFFFF;
        uint32_t field = cs.ext_ts ? be32(mh + kMessageHeader[fmt]) : be24(mh);
        cs.delta = field;
        cs.timestamp = fmt == 0 ? field : cs.timestamp + field;
        break;
      }
      default:
        break;
    }
    if (cs.remaining == 0) {  // a new message (fmt 3 too: same length and type again)
      if (fmt == 3) cs.timestamp += cs.delta;
      cs.message.timestamp = cs.timestamp;
      cs.remaining = cs.length;
      cs.keep = kept(cs.message.type_id);
      cs.message.payload.clear();
      if (cs.keep && cs.length > kMaxKeptMessage) return "control/command message too large";
    }
    cur_ = size_t(index);
    chunk_left_ = std::min(chunk_size_, cs.remaining);
    return nullptr;
  }

  template <class Sink>
  const char* complete(ChunkStream& cs, Sink& sink, bool& more) {
    if (!cs.keep) {
      more = sink(cs.message);  // payload empty: skipped
      return nullptr;
    }
    const rtmp::Message& m = cs.message;
    if (m.type_id == msg::kSetChunkSize || m.type_id == msg::kAbort) {
      auto value = rtmp::parse_u32_control(m);
      if (!value) return "malformed Set Chunk Size or Abort";
      if (m.type_id == msg::kSetChunkSize) {
        uint32_t size = *value & 0x7fffffff;  // 5.4.1: the top bit must be zero
        if (size == 0 || size > kMaxChunkSize) return "Set Chunk Size out of range";
        chunk_size_ = size;
      } else if (int i = find(*value); i >= 0) {
        streams_[size_t(i)].remaining = 0;
        streams_[size_t(i)].message.payload.clear();
      }
    }
    more = sink(m);
    // A viewer lives for hours: do not keep a large command buffer around.
    if (cs.message.payload.capacity() > 4096) std::vector<uint8_t>().swap(cs.message.payload);
    cs.message.payload.clear();
    return nullptr;
  }

  uint8_t hdr_[18] = {};  // basic (<=3) + message (<=11) + extended timestamp (4)
  uint8_t hdr_len_ = 0;
  uint32_t chunk_size_ = 128;  // 5.4.1 default
  uint32_t chunk_left_ = 0;
  size_t cur_ = 0;  // index into streams_ of the chunk whose payload is being read
  std::vector<ChunkStream> streams_;
};

// ---------------------------------------------------------------------------------------
// Viewers

enum class Phase : uint8_t { kIdle, kConnecting, kHandshake, kSetup, kPlaying, kDone };

class Loadgen;

struct RtmpState {
  explicit RtmpState(uint64_t seed) : handshake(seed) {}
  rtmp::ClientHandshake handshake;
  ChunkWalker walker;
  uint32_t window_ack_size = 2500000;  // until the server says otherwise
  uint64_t acked_bytes = 0;            // wire bytes reported in the last Acknowledgement
  uint32_t stream_id = 0;              // from createStream's _result
};

struct FlvState {
  std::string head;        // response headers until the blank line
  bool chunked = false;    // Transfer-Encoding: chunked (the body then starts with a size)
  uint8_t signature = 0;   // how many bytes of "FLV" have been checked
  // Timed viewers only: the tag walk (FLV spec E.3) and, for a chunked body, where the
  // chunk framing is (RFC 9112 7.1).
  uint64_t skip = 13;      // header (9) + PreviousTagSize0 (4), then each tag's body + 4
  uint8_t tag[11] = {};
  uint8_t tag_len = 0;
  uint64_t chunk_left = 0;  // body bytes left in the current chunk
  uint64_t chunk_size = 0;  // the size line being read
  uint8_t crlf_left = 0;    // the CRLF after a chunk's data
  bool size_digits_done = false;  // past the hex digits (a chunk extension follows)
};

struct Viewer {
  uv_tcp_t tcp{};
  uv_connect_t connect_req{};
  Loadgen* gen = nullptr;
  Phase phase = Phase::kIdle;
  bool handle_open = false;
  bool counted_at_tick = false;   // was playing at the previous tick
  bool in_window = false;         // was playing when the summary window opened
  bool timed = false;             // measures delivery delay (see the top of the file)
  std::vector<float> delays_ms;   // arrival minus timestamp, per message in the window
  double setup_started_s = 0;
  uint64_t wire_bytes = 0;        // every byte read (RTMP acks report these)
  uint64_t counted_bytes = 0;     // bytes read while playing: the delivered stream
  uint64_t bytes_at_tick = 0;
  uint64_t bytes_at_window = 0;
  std::unique_ptr<RtmpState> rtmp;
  std::unique_ptr<FlvState> flv;
};

struct WriteRequest {
  uv_write_t req{};
  std::vector<uint8_t> data;
};

struct RateStats {
  size_t count = 0;
  double min_kbps = 0, p10_kbps = 0, median_kbps = 0;
};

RateStats rate_stats(std::vector<double>& kbps) {
  RateStats s;
  s.count = kbps.size();
  if (kbps.empty()) return s;
  auto nth = [&](size_t k) {
    std::nth_element(kbps.begin(), kbps.begin() + long(k), kbps.end());
    return kbps[k];
  };
  s.min_kbps = *std::min_element(kbps.begin(), kbps.end());
  s.p10_kbps = nth(kbps.size() / 10);
  s.median_kbps = nth(kbps.size() / 2);
  return s;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

class Loadgen {
 public:
  Loadgen(Options options, Target target) : opt_(std::move(options)), target_(std::move(target)) {
    viewers_.resize(opt_.viewers);
    for (size_t i = 0; i < viewers_.size(); ++i) {
      viewers_[i].gen = this;
      viewers_[i].timed = opt_.delay_every > 0 && i % opt_.delay_every == 0;
    }
  }

  int run() {
    uv_loop_init(&loop_);
    start_s_ = now_s();
    last_tick_s_ = start_s_;
    last_tick_cpu_ = cpu_seconds();
    uv_timer_init(&loop_, &ramp_timer_);
    uv_timer_init(&loop_, &tick_timer_);
    uv_timer_init(&loop_, &end_timer_);
    uv_signal_init(&loop_, &sigint_);
    uv_signal_init(&loop_, &sigterm_);
    ramp_timer_.data = tick_timer_.data = end_timer_.data = this;
    sigint_.data = sigterm_.data = this;
    uv_timer_start(&ramp_timer_, [](uv_timer_t* t) { static_cast<Loadgen*>(t->data)->ramp(); }, 0, 10);
    auto interval_ms = uint64_t(opt_.interval_s * 1000);
    uv_timer_start(&tick_timer_, [](uv_timer_t* t) { static_cast<Loadgen*>(t->data)->tick(); },
                   interval_ms, interval_ms);
    uv_timer_start(&end_timer_, [](uv_timer_t* t) { static_cast<Loadgen*>(t->data)->finish(); },
                   uint64_t(opt_.duration_s * 1000), 0);
    auto on_signal = [](uv_signal_t* s, int) { static_cast<Loadgen*>(s->data)->finish(); };
    uv_signal_start(&sigint_, on_signal, SIGINT);
    uv_signal_start(&sigterm_, on_signal, SIGTERM);
    std::printf("start protocol=%s url=%s viewers=%u ramp=%.0f duration_s=%.1f measure_from_s=%.1f\n",
                opt_.protocol == Protocol::kRtmp ? "rtmp" : "flv", opt_.url.c_str(), opt_.viewers,
                opt_.ramp_per_s, opt_.duration_s, opt_.measure_from_s);
    // Bounded: finish() closes every handle, so the loop runs out of work and returns.
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    return 0;
  }

  // Every read lands here; the data is consumed before the next read, so one buffer
  // serves all connections (the loop is single-threaded).
  static void alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* v = static_cast<Viewer*>(h->data);
    *buf = uv_buf_init(v->gen->read_buffer_.data(), unsigned(v->gen->read_buffer_.size()));
  }

 private:
  double now_s() const { return double(uv_hrtime()) / 1e9; }
  double elapsed_s() const { return now_s() - start_s_; }

  // --- ramp ---------------------------------------------------------------------------
  void ramp() {
    if (finishing_) return;
    auto due = std::min<uint64_t>(opt_.viewers, uint64_t(elapsed_s() * opt_.ramp_per_s) + 1);
    // Bounded per call so a stalled loop does not fire a burst that overflows the backlog.
    // max_pending keeps a join storm from measuring the server's accept path instead of
    // its fan-out: new viewers wait while that many are still setting up.
    for (int i = 0; i < 2000 && started_ < due; ++i) {
      if (opt_.max_pending != 0 && setting_up_ >= opt_.max_pending) break;
      start_viewer(viewers_[started_++]);
    }
    if (started_ == opt_.viewers) uv_timer_stop(&ramp_timer_);
  }

  void start_viewer(Viewer& v) {
    uv_tcp_init(&loop_, &v.tcp);
    v.tcp.data = &v;
    v.connect_req.data = &v;
    v.handle_open = true;
    v.phase = Phase::kConnecting;
    v.setup_started_s = elapsed_s();
    ++setting_up_;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", target_.port, &addr);
    int rc = uv_tcp_connect(&v.connect_req, &v.tcp, reinterpret_cast<const sockaddr*>(&addr),
                            [](uv_connect_t* req, int status) {
                              auto* viewer = static_cast<Viewer*>(req->data);
                              viewer->gen->on_connect(*viewer, status);
                            });
    if (rc != 0) fail(v, std::string("connect: ") + uv_strerror(rc));
  }

  void on_connect(Viewer& v, int status) {
    if (status == UV_ECANCELED || v.phase != Phase::kConnecting) return;
    if (status != 0) return fail(v, std::string("connect: ") + uv_strerror(status));
    v.phase = Phase::kHandshake;
    if (opt_.protocol == Protocol::kRtmp) {
      v.rtmp = std::make_unique<RtmpState>(next_random());
      send(v, v.rtmp->handshake.start());
    } else {
      v.flv = std::make_unique<FlvState>();
      std::string request = "GET " + target_.path + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                            std::to_string(target_.port) +
                            "\r\nUser-Agent: anchorcast-loadgen\r\nAccept: */*\r\n\r\n";
      send(v, std::vector<uint8_t>(request.begin(), request.end()));
    }
    uv_read_start(reinterpret_cast<uv_stream_t*>(&v.tcp), &Loadgen::alloc,
                  [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                    auto* viewer = static_cast<Viewer*>(s->data);
                    viewer->gen->on_read(*viewer, n, buf);
                  });
  }

  uint64_t next_random() {  // xorshift: seeds for handshake filler, not security
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }

  // --- I/O ------------------------------------------------------------------------------
  void send(Viewer& v, std::vector<uint8_t> bytes) {
    if (bytes.empty()) return;
    auto* w = new WriteRequest;
    w->data = std::move(bytes);
    w->req.data = w;
    uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(w->data.data()), unsigned(w->data.size()));
    int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&v.tcp), &buf, 1,
                      [](uv_write_t* req, int) { delete static_cast<WriteRequest*>(req->data); });
    // A failed write surfaces again as a read error; the request is ours to free here.
    if (rc != 0) delete w;
  }

  void on_read(Viewer& v, ssize_t n, const uv_buf_t* buf) {
    if (n == 0) return;  // EAGAIN
    if (n < 0) {
      if (v.phase == Phase::kPlaying) return end_playing(v, n == UV_EOF ? "eof" : uv_strerror(int(n)));
      return fail(v, std::string("read before playing: ") + (n == UV_EOF ? "eof" : uv_strerror(int(n))));
    }
    v.wire_bytes += uint64_t(n);
    if (v.timed) read_at_ms_ = double(uv_hrtime()) / 1e6;
    const auto* p = reinterpret_cast<const uint8_t*>(buf->base);
    if (opt_.protocol == Protocol::kFlv) return on_flv_bytes(v, p, size_t(n));
    on_rtmp_bytes(v, p, size_t(n));
  }

  void count(Viewer& v, size_t n) {
    v.counted_bytes += n;
    total_counted_ += n;
  }

  // --- HTTP-FLV -------------------------------------------------------------------------
  void on_flv_bytes(Viewer& v, const uint8_t* p, size_t n) {
    FlvState& f = *v.flv;
    if (v.phase == Phase::kPlaying) {
      if (f.signature < 3) check_flv_signature(v, p, n);
      if (v.phase != Phase::kPlaying) return;
      count(v, n);
      // From the body's first byte on, to stay in step with the tags.
      if (v.timed) f.chunked ? dechunk(v, p, n) : walk_flv_tags(v, p, n);
      return;
    }
    size_t old = f.head.size();
    f.head.append(reinterpret_cast<const char*>(p), n);
    size_t end = f.head.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
    if (end == std::string::npos) {
      if (f.head.size() > 16384) fail(v, "http: response headers over 16 KiB");
      return;
    }
    std::string_view head(f.head.data(), end);
    // "HTTP/1.1 200 OK"
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/" || head.substr(8, 4) != " 200") {
      return fail(v, "http: status '" + std::string(head.substr(0, head.find('\r'))) + "'");
    }
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    f.chunked = lower.find("\r\ntransfer-encoding: chunked") != std::string::npos;
    if (f.chunked) f.signature = 3;  // the body starts with a chunk size, not "FLV"
    size_t body_at = end + 4;
    std::string body = f.head.substr(body_at);
    std::string().swap(f.head);
    enter_playing(v);
    if (!body.empty()) on_flv_bytes(v, reinterpret_cast<const uint8_t*>(body.data()), body.size());
  }

  // Body bytes of a chunked response, without the chunk framing, to the tag walk.
  void dechunk(Viewer& v, const uint8_t* p, size_t n) {
    FlvState& f = *v.flv;
    while (n > 0) {
      if (f.chunk_left > 0) {
        size_t take = size_t(std::min<uint64_t>(f.chunk_left, n));
        walk_flv_tags(v, p, take);
        p += take;
        n -= take;
        f.chunk_left -= take;
        if (f.chunk_left == 0) f.crlf_left = 2;
        continue;
      }
      uint8_t c = *p++;
      --n;
      if (f.crlf_left > 0) {
        --f.crlf_left;
      } else if (c == '\n') {  // the end of a size line
        f.chunk_left = f.chunk_size;
        f.chunk_size = 0;
        f.size_digits_done = false;
      } else if (!f.size_digits_done && std::isxdigit(c)) {
        f.chunk_size = f.chunk_size * 16 + uint64_t(std::isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
      } else {
        f.size_digits_done = true;  // CR, or a chunk extension
      }
    }
  }

  void walk_flv_tags(Viewer& v, const uint8_t* p, size_t n) {
    FlvState& f = *v.flv;
    while (n > 0) {
      if (f.skip > 0) {
        size_t take = size_t(std::min<uint64_t>(f.skip, n));
        p += take;
        n -= take;
        f.skip -= take;
        continue;
      }
      size_t take = std::min<size_t>(sizeof f.tag - f.tag_len, n);
      std::memcpy(f.tag + f.tag_len, p, take);
      f.tag_len = uint8_t(f.tag_len + take);
      p += take;
      n -= take;
      if (f.tag_len < sizeof f.tag) return;
      uint8_t type = f.tag[0] & 0x1f;
      uint32_t timestamp = be24(f.tag + 4) | uint32_t(f.tag[7]) << 24;
      if (type == 8 || type == 9) note_delay(v, timestamp);
      f.skip = uint64_t(be24(f.tag + 1)) + 4;
      f.tag_len = 0;
    }
  }

  void note_delay(Viewer& v, uint32_t timestamp) {
    if (window_open_ && v.in_window) v.delays_ms.push_back(float(read_at_ms_ - double(timestamp)));
  }

  void check_flv_signature(Viewer& v, const uint8_t* p, size_t n) {
    FlvState& f = *v.flv;
    static constexpr char kSignature[] = "FLV";
    for (size_t i = 0; i < n && f.signature < 3; ++i, ++f.signature) {
      if (p[i] != uint8_t(kSignature[f.signature])) return end_playing(v, "body is not FLV", true);
    }
  }

  // --- RTMP -----------------------------------------------------------------------------
  void on_rtmp_bytes(Viewer& v, const uint8_t* p, size_t n) {
    RtmpState& r = *v.rtmp;
    if (v.phase == Phase::kHandshake) {
      std::vector<uint8_t> c2;
      auto took = r.handshake.consume({p, n}, c2);
      if (!took) return fail(v, took.error().message);
      p += *took;
      n -= *took;
      if (!r.handshake.done()) return;
      // The connect command rides in the same write as C2 (5.2.5 lets the client send
      // once C2 is out).
      writer_.append(connect_command(), c2);
      send(v, std::move(c2));
      v.phase = Phase::kSetup;
      if (n == 0) return;
    }
    const char* err = r.walker.feed(p, n, [&](const rtmp::Message& m) {
      on_rtmp_message(v, m);
      return v.phase != Phase::kDone;
    });
    if (v.phase == Phase::kDone) return;  // a message ended the viewer
    if (err != nullptr) return fail(v, std::string("rtmp: ") + err);
    if (v.phase == Phase::kPlaying) count(v, n);
    // 5.4.3: acknowledge each window of received bytes. At half a window, so a server
    // that stops sending at a full unacknowledged window never waits on us.
    if (v.wire_bytes - r.acked_bytes >= r.window_ack_size / 2) {
      r.acked_bytes = v.wire_bytes;
      send_message(v, rtmp::make_acknowledgement(uint32_t(v.wire_bytes)));  // wraps: 5.4.3
    }
  }

  void send_message(Viewer& v, const rtmp::Message& m) {
    std::vector<uint8_t> out;
    writer_.append(m, out);
    send(v, std::move(out));
  }

  rtmp::Message connect_command() const {
    using rtmp::Amf0Value;
    // What ffmpeg sends when playing (7.2.1.1): nginx-rtmp and SRS want app and tcUrl.
    Amf0Value object = Amf0Value::make_object({
        {"app", Amf0Value::make_string(target_.app)},
        {"flashVer", Amf0Value::make_string("LNX 9,0,124,2")},
        {"tcUrl", Amf0Value::make_string(target_.tc_url)},
        {"fpad", Amf0Value::make_boolean(false)},
        {"capabilities", Amf0Value::make_number(15)},
        {"audioCodecs", Amf0Value::make_number(4071)},
        {"videoCodecs", Amf0Value::make_number(252)},
        {"videoFunction", Amf0Value::make_number(1)},
    });
    return rtmp::make_command(0, "connect", kConnectTxn, object);
  }

  void on_rtmp_message(Viewer& v, const rtmp::Message& m) {
    RtmpState& r = *v.rtmp;
    switch (m.type_id) {
      case msg::kWindowAckSize:
        if (auto window = rtmp::parse_u32_control(m)) {
          // A tiny window would mean an ack per read; keep a sane floor.
          r.window_ack_size = std::max<uint32_t>(*window, 4096);
        }
        return;
      case msg::kSetPeerBandwidth:
        // 5.4.5: answer with our Window Acknowledgement Size (the value asked for).
        if (auto window = rtmp::parse_u32_control(m); window && r.stream_id == 0) {
          send_message(v, rtmp::make_window_ack_size(*window));
        }
        return;
      case msg::kUserControl:
        // 7.1.7: a ping request must be answered or the server may drop us as dead.
        if (auto uc = rtmp::parse_user_control(m); uc && uc->event == rtmp::UserControlEvent::ping_request) {
          send_message(v, rtmp::make_user_control(rtmp::UserControlEvent::ping_response, uc->value));
        }
        return;
      case msg::kCommandAmf0:
      case msg::kCommandAmf3:
        return on_rtmp_command(v, m);
      case msg::kAudio:
      case msg::kVideo:
        // Some servers send media before (or without) NetStream.Play.Start.
        if (v.phase == Phase::kSetup && r.stream_id != 0) enter_playing(v);
        if (v.timed && v.phase == Phase::kPlaying) note_delay(v, m.timestamp);
        return;
      default:
        return;
    }
  }

  void on_rtmp_command(Viewer& v, const rtmp::Message& m) {
    using rtmp::Amf0Value;
    RtmpState& r = *v.rtmp;
    auto parsed = rtmp::parse_command(m);
    if (!parsed) return fail(v, "rtmp: bad command: " + parsed.error().message);
    const rtmp::Command& c = *parsed;
    const Amf0Value* info = c.args.empty() ? nullptr : &c.args[0];
    auto info_string = [&](std::string_view key) -> std::string {
      auto s = info != nullptr && info->has_properties() ? info->get_string(key) : std::nullopt;
      return s ? std::string(*s) : std::string();
    };
    if (c.name == "_error") return fail(v, "rtmp: _error " + info_string("code"));
    if (v.phase != Phase::kSetup) {
      // Once playing, only a status saying the stream went away matters (counted when
      // the server then closes; a server that keeps us connected shows as rate 0).
      if (c.name == "onStatus" && info_string("level") == "error") {
        return end_playing(v, "rtmp: " + info_string("code"), true);
      }
      return;
    }
    if (c.name == "_result" && c.transaction_id == kConnectTxn) {
      return send_message(v, rtmp::make_command(0, "createStream", kCreateStreamTxn, Amf0Value::make_null()));
    }
    if (c.name == "_result" && c.transaction_id == kCreateStreamTxn && r.stream_id == 0) {
      if (info == nullptr || info->type != rtmp::Amf0Type::number || !(info->number >= 1 && info->number <= 1e9)) {
        return fail(v, "rtmp: createStream _result without a stream id");
      }
      r.stream_id = uint32_t(info->number);
      // 7.2.2.1: play's transaction id is 0; start -2 = live, else recorded.
      Amf0Value args[] = {Amf0Value::make_string(target_.stream), Amf0Value::make_number(-2)};
      std::vector<uint8_t> out;
      writer_.append(rtmp::make_command(r.stream_id, "play", 0, Amf0Value::make_null(), args), out);
      // What ffmpeg and Flash send after play; some servers size their queues from it.
      writer_.append(rtmp::make_set_buffer_length(r.stream_id, 3000), out);
      return send(v, std::move(out));
    }
    if (c.name == "onStatus") {
      std::string level = info_string("level"), code = info_string("code");
      if (level == "error") return fail(v, "rtmp: " + code);
      if (code == "NetStream.Play.Start") return enter_playing(v);
    }
  }

  // --- state changes --------------------------------------------------------------------
  void enter_playing(Viewer& v) {
    --setting_up_;
    ++playing_;
    v.phase = Phase::kPlaying;
    v.counted_at_tick = false;
    // Wake the loop only once 16 KiB are queued instead of once per server write (one per
    // audio/video message, ~70/s per viewer). Measured with 2000 nginx-rtmp viewers: the
    // generator's CPU was 80 % with no low-water mark, 24 % at 4 KiB, 11 % at 16 KiB. The
    // price: a viewer's count lags by < 16 KiB (0.2 s at 600 kbit/s), noise on 1 s ticks,
    // ~2 % on a 10 s window. Kept below the ack window so acks cannot be held back.
    int lowat = v.timed ? 1 : opt_.rcvlowat;  // a timed viewer sees each write as it lands
    if (v.rtmp) lowat = int(std::min<uint32_t>(uint32_t(lowat), v.rtmp->window_ack_size / 4));
    uv_os_fd_t fd;
    if (lowat > 1 && uv_fileno(reinterpret_cast<uv_handle_t*>(&v.tcp), &fd) == 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
    }
  }

  void fail(Viewer& v, const std::string& why) {
    if (v.phase == Phase::kDone) return;
    if (v.phase == Phase::kPlaying) return end_playing(v, why, true);
    --setting_up_;
    ++failed_;
    note_reason(why);
    close(v);
  }

  void end_playing(Viewer& v, const std::string& why, bool by_us = false) {
    if (v.phase != Phase::kPlaying) return;
    --playing_;
    if (by_us) ++failed_;
    else ++closed_by_server_;
    note_reason(why);
    close(v);
  }

  void note_reason(const std::string& why) {
    auto& n = reasons_[why];
    if (n++ == 0) std::fprintf(stderr, "loadgen_fanout: t=%.1f first '%s'\n", elapsed_s(), why.c_str());
  }

  // Protocol state is freed in the close callback, not here: close() can run from inside
  // the chunk walker that state owns.
  void close(Viewer& v, bool reset = false) {
    v.phase = Phase::kDone;
    if (!v.handle_open) return;
    v.handle_open = false;
    auto on_closed = [](uv_handle_t* h) {
      auto* viewer = static_cast<Viewer*>(h->data);
      viewer->rtmp.reset();
      viewer->flv.reset();
    };
    // At the end of a run, RST instead of FIN: thousands of client-side TIME_WAIT sockets
    // would otherwise pin loopback ports across the driver's back-to-back steps.
    if (reset && uv_tcp_close_reset(&v.tcp, on_closed) == 0) return;
    uv_close(reinterpret_cast<uv_handle_t*>(&v.tcp), on_closed);
  }

  // --- reporting ------------------------------------------------------------------------
  void tick() {
    double now = now_s();
    double dt = now - last_tick_s_;
    if (dt <= 0) return;
    double t = now - start_s_;
    rates_.clear();
    for (auto& v : viewers_) {
      if (v.phase == Phase::kPlaying) {
        if (v.counted_at_tick) rates_.push_back(double(v.counted_bytes - v.bytes_at_tick) * 8 / dt / 1000);
        v.bytes_at_tick = v.counted_bytes;
        v.counted_at_tick = true;
      } else if ((v.phase == Phase::kConnecting || v.phase == Phase::kHandshake ||
                  v.phase == Phase::kSetup) &&
                 t - v.setup_started_s > opt_.setup_timeout_s) {
        // Which step stalled tells a server's accept backlog from a slow handler.
        fail(v, v.phase == Phase::kConnecting ? "setup timeout: TCP connect"
                : v.phase == Phase::kSetup    ? "setup timeout: waiting for NetStream.Play.Start"
                : opt_.protocol == Protocol::kFlv ? "setup timeout: no HTTP response (not accepted or not answered)"
                                                  : "setup timeout: RTMP handshake");
      }
    }
    RateStats s = rate_stats(rates_);
    double cpu = cpu_seconds();
    std::printf(
        "tick t=%.2f connected=%" PRIu64 " setup=%" PRIu64 " failed=%" PRIu64 " closed=%" PRIu64
        " mbps=%.2f min_kbps=%.1f p10_kbps=%.1f median_kbps=%.1f lg_cpu_pct=%.1f\n",
        t, playing_, setting_up_, failed_, closed_by_server_,
        double(total_counted_ - total_at_tick_) * 8 / dt / 1e6, s.min_kbps, s.p10_kbps,
        s.median_kbps, (cpu - last_tick_cpu_) / dt * 100);
    total_at_tick_ = total_counted_;
    last_tick_s_ = now;
    last_tick_cpu_ = cpu;
    // Half an interval of slack: ticks land a hair early or late on the timer.
    // The window measures steady state: it opens once every viewer is playing (or has
    // failed), or join_wait_s late at most. Half an interval of slack: ticks land a hair
    // early or late on the timer.
    if (setting_up_ == 0 && all_joined_s_ < 0 && started_ == opt_.viewers) all_joined_s_ = t;
    if (!window_open_ && t + opt_.interval_s / 2 >= opt_.measure_from_s &&
        (setting_up_ == 0 || t + opt_.interval_s / 2 >= opt_.measure_from_s + opt_.join_wait_s)) {
      open_window(now);
    }
    std::fflush(stdout);
  }

  void open_window(double now) {
    window_open_ = true;
    window_start_s_ = now;
    window_total_ = total_counted_;
    window_cpu_ = cpu_seconds();
    for (auto& v : viewers_) {
      v.in_window = v.phase == Phase::kPlaying;
      v.bytes_at_window = v.counted_bytes;
      window_viewers_ += v.in_window;
    }
    std::printf("window_start t=%.2f viewers=%" PRIu64 "\n", now - start_s_, window_viewers_);
    if (opt_.window_s > 0) {
      uv_timer_start(&end_timer_, [](uv_timer_t* t) { static_cast<Loadgen*>(t->data)->finish(); },
                     uint64_t(opt_.window_s * 1000), 0);
    }
  }

  struct DelayStats {
    size_t viewers = 0, samples = 0;
    double p50_ms = 0, p99_ms = 0, max_ms = 0;
  };

  // Pooled over the timed viewers, each against its own fastest message.
  DelayStats delay_stats() {
    DelayStats d;
    std::vector<float> pooled;
    for (auto& v : viewers_) {
      if (!v.timed || !v.in_window || v.delays_ms.empty()) continue;
      float base = *std::min_element(v.delays_ms.begin(), v.delays_ms.end());
      for (float x : v.delays_ms) pooled.push_back(x - base);
      ++d.viewers;
    }
    d.samples = pooled.size();
    if (pooled.empty()) return d;
    auto nth = [&](double q) {
      size_t k = std::min(pooled.size() - 1, size_t(q * double(pooled.size())));
      std::nth_element(pooled.begin(), pooled.begin() + long(k), pooled.end());
      return double(pooled[k]);
    };
    d.p50_ms = nth(0.5);
    d.p99_ms = nth(0.99);
    d.max_ms = double(*std::max_element(pooled.begin(), pooled.end()));
    return d;
  }

  void finish() {
    if (finishing_) return;
    finishing_ = true;
    double now = now_s();
    if (window_open_) {
      double dt = std::max(now - window_start_s_, 1e-3);
      rates_.clear();
      uint64_t kept = 0, below = 0;
      for (auto& v : viewers_) {
        if (!v.in_window) continue;
        // A viewer that dropped during the window delivered less: count it at its rate.
        double kbps = double(v.counted_bytes - v.bytes_at_window) * 8 / dt / 1000;
        rates_.push_back(kbps);
        below += kbps < opt_.keepup_kbps;
        kept += v.phase == Phase::kPlaying;
      }
      RateStats s = rate_stats(rates_);
      DelayStats d = delay_stats();
      std::printf("summary window_s=%.2f viewers=%" PRIu64 " still_playing=%" PRIu64
                  " target=%u setup=%" PRIu64 " all_joined_t=%.2f failed=%" PRIu64 " closed=%" PRIu64 " below_keepup=%" PRIu64
                  " mbps=%.2f min_kbps=%.1f p10_kbps=%.1f median_kbps=%.1f lg_cpu_pct=%.1f"
                  " delay_viewers=%zu delay_samples=%zu delay_p50_ms=%.1f delay_p99_ms=%.1f delay_max_ms=%.1f\n",
                  dt, window_viewers_, kept, opt_.viewers, setting_up_, all_joined_s_, failed_, closed_by_server_, below,
                  double(total_counted_ - window_total_) * 8 / dt / 1e6, s.min_kbps, s.p10_kbps,
                  s.median_kbps, (cpu_seconds() - window_cpu_) / dt * 100, d.viewers, d.samples, d.p50_ms, d.p99_ms,
                  d.max_ms);
    } else {
      std::printf("summary window_s=0 viewers=0 still_playing=%" PRIu64 " target=%u failed=%" PRIu64
                  " closed=%" PRIu64 " (stopped before --measure-from)\n",
                  playing_, opt_.viewers, failed_, closed_by_server_);
    }
    for (const auto& [why, n] : reasons_) std::printf("reason count=%" PRIu64 " what=%s\n", n, why.c_str());
    std::fflush(stdout);
    for (auto& v : viewers_) {
      if (v.phase == Phase::kPlaying) --playing_;
      close(v, true);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&ramp_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&end_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  }

  static constexpr double kConnectTxn = 1;
  static constexpr double kCreateStreamTxn = 2;

  Options opt_;
  Target target_;
  const rtmp::ChunkWriter writer_{};  // 128-byte chunks: we never send Set Chunk Size
  uv_loop_t loop_{};
  uv_timer_t ramp_timer_{}, tick_timer_{}, end_timer_{};
  uv_signal_t sigint_{}, sigterm_{};
  std::vector<Viewer> viewers_;  // sized once: handles point into it
  std::array<char, 1 << 16> read_buffer_{};
  double read_at_ms_ = 0;  // when the bytes being parsed arrived (timed viewers)
  std::vector<double> rates_;
  std::map<std::string, uint64_t> reasons_;
  uint64_t rng_ = 0x9e3779b97f4a7c15;
  uint64_t started_ = 0, setting_up_ = 0, playing_ = 0, failed_ = 0, closed_by_server_ = 0;
  uint64_t total_counted_ = 0, total_at_tick_ = 0;
  double start_s_ = 0, last_tick_s_ = 0, last_tick_cpu_ = 0;
  bool window_open_ = false, finishing_ = false;
  double window_start_s_ = 0, window_cpu_ = 0;
  double all_joined_s_ = -1;  // first tick with every viewer past setup (-1: never)
  uint64_t window_total_ = 0, window_viewers_ = 0;
};

void raise_fd_limit(uint32_t viewers) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  rlim_t want = rlim_t(viewers) + 64;  // + stdio, the loop's own fds
  if (lim.rlim_cur < want) {
    lim.rlim_cur = std::min(want, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < want) {
    die("RLIMIT_NOFILE hard limit " + std::to_string(lim.rlim_max) + " is below the " +
        std::to_string(want) + " descriptors " + std::to_string(viewers) +
        " viewers need (raise it with ulimit -Hn as root)");
  }
}

}  // namespace

// --self-test: the walker against the relay's ChunkReader on random chunk streams (fmt
// 0-3 headers, extended timestamps, chunk size changes, every read split). Both must see
// the same messages in the same order, with the same timestamps, and the same payload
// for every kept one.
int self_test() {
  uint64_t rng = 88172645463325252ull;
  auto next = [&](uint64_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
  };
  for (int round = 0; round < 200; ++round) {
    std::vector<uint8_t> wire;
    rtmp::ChunkWriter writer(128);
    struct Last { uint32_t length = 0; uint8_t type = 0; bool ext = false; bool any = false; };
    std::map<uint32_t, Last> last;  // per csid, for the hand-made fmt 1-3 headers
    for (int i = 0; i < 60; ++i) {
      static constexpr uint8_t kTypes[] = {msg::kAudio, msg::kVideo, msg::kDataAmf0, msg::kCommandAmf0,
                                           msg::kUserControl, msg::kWindowAckSize};
      uint8_t type = kTypes[next(6)];
      uint32_t csid = type == msg::kUserControl || type == msg::kWindowAckSize
                          ? 2
                          : uint32_t(3 + next(3)) + (next(4) == 0 ? 300 : 0);  // 1- and 3-byte forms
      std::vector<uint8_t> payload(type == msg::kAudio || type == msg::kVideo ? next(9000) : 4 + next(40));
      for (auto& b : payload) b = uint8_t(next(256));
      bool ext = next(5) == 0;
      uint32_t ts = ext ? 0x1000000u + uint32_t(next(1000)) : uint32_t(next(100000));
      Last& l = last[csid];
      if (l.any && !ext && !l.ext && next(2) == 0 && writer.chunk_size() >= payload.size()) {
        // One chunk with a compressed header: fmt 1 (new length/type), 2 (same), 3 (same).
        int fmt = payload.size() == l.length && type == l.type ? 2 + int(next(2)) : 1;
        wire.push_back(uint8_t(fmt << 6 | (csid < 64 ? csid : 1)));
        if (csid >= 64) {
          wire.push_back(uint8_t((csid - 64) & 0xff));
          wire.push_back(uint8_t((csid - 64) >> 8));
        }
        if (fmt <= 2) for (int k = 0; k < 3; ++k) wire.push_back(uint8_t(k == 2 ? 40 : 0));  // delta
        if (fmt == 1) {
          for (int sh = 16; sh >= 0; sh -= 8) wire.push_back(uint8_t(payload.size() >> sh));
          wire.push_back(type);
        }
        wire.insert(wire.end(), payload.begin(), payload.end());
      } else {
        writer.append(rtmp::ChunkHeaderFields{csid, type, 1, ts}, payload, wire);
        l.ext = ext;
      }
      l = Last{uint32_t(payload.size()), type, l.ext, true};
      if (next(10) == 0) {  // the server changes its chunk size
        uint32_t size = uint32_t(1 + next(5000));
        writer.append(rtmp::make_set_chunk_size(size), wire);
        writer.set_chunk_size(size);
        last[2] = Last{4, msg::kSetChunkSize, false, true};
      }
    }
    std::vector<rtmp::Message> expected;
    rtmp::ChunkReader reader;
    if (auto st = reader.feed(wire, expected); !st) {
      std::fprintf(stderr, "self-test: reference reader failed: %s\n", st.error().message.c_str());
      return 1;
    }
    std::vector<rtmp::Message> seen;
    ChunkWalker walker;
    for (size_t at = 0; at < wire.size();) {
      size_t n = std::min<size_t>(1 + next(round % 2 ? 20 : 3000), wire.size() - at);
      const char* err = walker.feed(wire.data() + at, n, [&](const rtmp::Message& m) {
        seen.push_back(m);
        return true;
      });
      if (err != nullptr) {
        std::fprintf(stderr, "self-test: round %d: walker: %s\n", round, err);
        return 1;
      }
      at += n;
    }
    bool same = seen.size() == expected.size();
    for (size_t i = 0; same && i < seen.size(); ++i) {
      same = seen[i].type_id == expected[i].type_id && seen[i].stream_id == expected[i].stream_id &&
             seen[i].timestamp == expected[i].timestamp &&
             (seen[i].payload.empty() ? seen[i].type_id == msg::kAudio || seen[i].type_id == msg::kVideo ||
                                            seen[i].type_id == msg::kDataAmf0 || expected[i].payload.empty()
                                      : seen[i].payload == expected[i].payload);
    }
    if (!same) {
      std::fprintf(stderr, "self-test: round %d: walker saw %zu messages, reader %zu (or contents differ)\n",
                   round, seen.size(), expected.size());
      return 1;
    }
  }
  std::printf("self-test: ok (200 random chunk streams)\n");
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--self-test") return self_test();
  Options options = parse_options(argc, argv);
  Target target = parse_target(options);
  raise_fd_limit(options.viewers);
  signal(SIGPIPE, SIG_IGN);  // a server closing on us is a counted event, not a crash
  setvbuf(stdout, nullptr, _IOLBF, 0);
  auto gen = std::make_unique<Loadgen>(std::move(options), std::move(target));
  return gen->run();
}
