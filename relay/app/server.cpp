#include "anchorcast/app/server.hpp"

#include <algorithm>
#include <future>
#include <thread>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/log.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/egress/flv_viewer.hpp"
#include "anchorcast/egress/webrtc_egress.hpp"
#include "anchorcast/http/http_server.hpp"
#include "anchorcast/hub/hub.hpp"
#include "anchorcast/ingest/rtmp_server.hpp"
#include "anchorcast/ingest/srt_server.hpp"
#include "anchorcast/overlay/control_plane.hpp"

namespace anchorcast {

namespace {

// Scrape-time values computed from the hub: no bookkeeping on the hot path.
void collect_stream_metrics(const Hub& hub, const HttpServer& http, MetricsWriter& w) {
  std::vector<StreamSnapshot> snaps = hub.snapshots();
  int live = 0;
  int viewers[static_cast<int>(ViewerProtocol::count_)] = {};
  for (const auto& s : snaps) {
    if (s.live) ++live;
    for (int i = 0; i < static_cast<int>(ViewerProtocol::count_); ++i) viewers[i] += s.viewers[i];
  }
  w.family("anchorcast_streams_live", "gauge", "Streams with a live publisher");
  w.sample("anchorcast_streams_live", {}, live);
  w.family("anchorcast_streams", "gauge", "Configured streams");
  w.sample("anchorcast_streams", {}, static_cast<double>(snaps.size()));
  w.family("anchorcast_viewers", "gauge", "Connected viewers by protocol (HLS counts playlist fetchers)");
  int hls = 0;
  for (const auto& s : snaps) hls += http.hls_viewers(s.id);
  w.sample("anchorcast_viewers", {{"protocol", "hls"}}, hls);
  for (auto p : {ViewerProtocol::flv, ViewerProtocol::rtmp, ViewerProtocol::webrtc, ViewerProtocol::srt})
    w.sample("anchorcast_viewers", {{"protocol", viewer_protocol_name(p)}}, viewers[static_cast<int>(p)]);
  w.family("anchorcast_stream_ingest_bytes_total", "counter", "Media payload bytes received per stream");
  for (const auto& s : snaps) w.sample("anchorcast_stream_ingest_bytes_total", {{"stream", s.id}}, s.bytes_in);
  w.family("anchorcast_slow_viewer_dropped_packets_total", "counter",
           "Packets skipped for viewers that fell behind (they resume at the next keyframe)");
  for (const auto& s : snaps)
    w.sample("anchorcast_slow_viewer_dropped_packets_total", {{"stream", s.id}}, s.packets_dropped);
  w.family("anchorcast_publisher_sessions_total", "counter", "Publisher sessions started per stream");
  for (const auto& s : snaps) w.sample("anchorcast_publisher_sessions_total", {{"stream", s.id}}, s.sessions);
}

}  // namespace

struct Server::Impl {
  explicit Impl(Config c) : config(std::move(c)) {}
  Config config;
  Metrics metrics;
  Hub hub;
  std::vector<std::unique_ptr<EventLoop>> loops;  // the data plane
  std::unique_ptr<RtmpServer> rtmp;
  std::unique_ptr<FlvViewers> flv;  // on the loops; the HTTP thread hands them sockets
  std::unique_ptr<SrtServer> srt;  // its own adapter thread
  std::unique_ptr<ControlPlane> control;  // its own writer thread (SQLite group commit)
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<webrtc::WebRtcEgress> webrtc;  // its UDP I/O thread, media sent on the loops; WHEP from the HTTP thread
  bool started = false;
};

Server::Server(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Server::~Server() { stop(); }

Status Server::start() {
  auto& m = *impl_;
  // A burn-in stream gets a `main` rendition beside its source: the compositor's output.
  for (const auto& s : m.config.streams) {
    if (auto st = m.hub.add(s.id, s.publish_key, s.overlay == OverlayMode::burn_in); !st) return st;
  }
  // Streams created through the admin API join the configured ones; on an id conflict
  // the config wins (ControlPlane::open skips the stored one with a warning).
  m.control = std::make_unique<ControlPlane>(m.hub, m.metrics, m.config);
  if (auto st = m.control->open(); !st) return st;
  for (const auto& s : m.control->stored_streams()) {
    if (auto st = m.hub.add(s.id, s.publish_key, s.overlay == OverlayMode::burn_in); !st)
      log::warn("stream '", s.id, "' from data_dir not added: ", st.error().message);
  }

  int threads = m.config.data_plane_threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<EventLoop*> loops;
  const std::chrono::milliseconds write_batch(m.config.data_plane_write_batch_ms);
  for (int i = 0; i < threads; ++i)
    loops.push_back(m.loops.emplace_back(std::make_unique<EventLoop>(write_batch)).get());
  m.rtmp = std::make_unique<RtmpServer>(loops, m.hub, m.metrics);
  if (auto st = m.rtmp->listen(m.config.rtmp); !st) return st;
  m.flv = std::make_unique<FlvViewers>(loops, m.metrics);
  m.srt = std::make_unique<SrtServer>(m.hub, m.metrics, loops);
  if (auto st = m.srt->listen(m.config.srt, m.config.srt_latency_ms, m.config.srt_passphrase); !st) return st;
  m.http = std::make_unique<HttpServer>(m.hub, m.metrics, m.config, m.control.get());
  if (auto st = m.http->listen(m.config.http); !st) return st;
  m.http->set_data_plane(loops);
  m.metrics.add_collector(
      [rtmp = m.rtmp.get(), flv = m.flv.get(), srt = m.srt.get(), http = m.http.get()](MetricsWriter& w) {
        w.family("anchorcast_data_plane_connections", "gauge",
                 "Open connections (RTMP, HTTP-FLV, HLS and SRT viewers) on each data-plane loop");
        auto per_loop = rtmp->connections_per_loop();
        auto flv_per_loop = flv->viewers_per_loop();
        auto srt_per_loop = srt->viewers_per_loop();
        auto hls_per_loop = http->hls_connections_per_loop();
        auto at = [](const std::vector<size_t>& counts, size_t i) { return i < counts.size() ? counts[i] : 0; };
        for (size_t i = 0; i < per_loop.size(); ++i)
          w.sample("anchorcast_data_plane_connections", {{"loop", std::to_string(i)}},
                   static_cast<double>(per_loop[i] + at(flv_per_loop, i) + at(srt_per_loop, i) + at(hls_per_loop, i)));
      });
  m.webrtc = std::make_unique<webrtc::WebRtcEgress>(m.hub, m.metrics, loops);
  if (auto st = m.webrtc->listen(m.config.webrtc, m.config.webrtc_udp_gso, m.config.webrtc_public_ip); !st) return st;
  m.http->set_whep(m.webrtc.get());
  m.http->set_flv(m.flv.get());
  m.metrics.add_collector(
      [&hub = m.hub, &http = *m.http](MetricsWriter& w) { collect_stream_metrics(hub, http, w); });

  for (auto& loop : m.loops) loop->start();
  m.control->start();
  m.webrtc->start();
  m.http->start();
  m.started = true;
  log::info("anchorcast ", ANCHORCAST_VERSION, " ready: rtmp ", m.config.rtmp.to_string(), " on ", m.loops.size(),
            " data-plane loop(s)",
            m.config.data_plane_write_batch_ms > 0
                ? " (viewer writes batched every " + std::to_string(m.config.data_plane_write_batch_ms) + " ms)"
                : std::string(),
            ", srt ",
            m.config.srt.to_string(), ", webrtc ", m.config.webrtc.to_string(), ", http ",
            m.config.http.to_string(), ", ", m.config.streams.size(), " stream(s)");
  return {};
}

void Server::stop() {
  auto& m = *impl_;
  // Ingest first (no new media), then viewers.
  if (m.srt) m.srt->close();
  // WebRTC before the loops: its sessions' media senders live on them.
  if (m.webrtc) m.webrtc->stop();
  // The first loop holds the RTMP listener: stopped first, no socket is dealt to a
  // loop that has stopped. (An HTTP-FLV socket handed over from now on is closed.)
  for (auto& loop : m.loops) loop->stop();
  // Commit and answer what merchants already sent, then close their sockets (1001).
  if (m.control) m.control->flush();
  if (m.http) m.http->stop();
  if (m.control) m.control->stop();
  if (m.started) log::info("anchorcast stopped");
  m.started = false;
}

}  // namespace anchorcast
