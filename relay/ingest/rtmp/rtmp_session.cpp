#include "relay/ingest/rtmp/rtmp_session.hpp"

#include <unistd.h>

#include <string_view>

#include "anchorcast/core/log.hpp"

namespace anchorcast {

namespace {

constexpr uint64_t kHandshakeTimeoutMs = 10'000;
constexpr uint64_t kIdleCheckMs = 5'000;
// A connection that neither publishes nor plays, or a publisher that stopped sending,
// holds a socket (and a stream's publish slot) for nothing.
constexpr uint64_t kIdleTimeoutMs = 30'000;
constexpr uint64_t kDrainTimeoutMs = 5'000;
// 7.2.1.1 connect reply values, what FMS/SRS/nginx-rtmp send and encoders expect.
constexpr uint32_t kWindowAckSize = 2'500'000;
constexpr uint32_t kOutgoingChunkSize = 4096;
constexpr uint32_t kMessageStreamId = 1;  // the one stream createStream hands out

rtmp::ChunkReaderLimits session_limits() {
  rtmp::ChunkReaderLimits limits;
  // A keyframe of a 4K stream is well under 8 MiB; two in flight is the most a real
  // encoder buffers. This caps what one connection can make the server hold.
  limits.max_buffered_bytes = 16 * 1024 * 1024;
  return limits;
}

std::string peer_name(const uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char host[64] = {};
  if (addr.ss_family == AF_INET6) {
    auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(a6, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a6->sin6_port));
  }
  auto* a4 = reinterpret_cast<const sockaddr_in*>(&addr);
  uv_ip4_name(a4, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a4->sin_port));
}

// The Enhanced RTMP codecs an anchor may publish: what RtmpPublish reads.
constexpr std::string_view kIngestFourCcs[] = {"hvc1"};

// enhanced-rtmp v1 "Extending NetConnection connect Command": the client lists the
// FourCCs it can send in the command object's fourCcList (a strict array of strings, "*"
// for any: v2); v2 has the server state its support in the _result's properties. We
// answer the ones we take that the client offered, and all of ours when it offered none
// (or no array), so an encoder that asks the server first sees HEVC.
rtmp::Amf0Value answer_fourcc_list(const rtmp::Amf0Value& command_object) {
  const rtmp::Amf0Value* offered = command_object.get("fourCcList");
  std::vector<rtmp::Amf0Value> answer;
  for (std::string_view ours : kIngestFourCcs) {
    bool take = !offered || offered->type != rtmp::Amf0Type::strict_array;
    if (!take) {
      for (const auto& e : offered->elements) take |= e.is_string() && (e.string == ours || e.string == "*");
    }
    if (take) answer.push_back(rtmp::Amf0Value::make_string(std::string(ours)));
  }
  return rtmp::Amf0Value::make_strict_array(std::move(answer));
}

// OBS and some encoders append "?query" to the stream key / name; the key is before it.
std::string_view strip_query(std::string_view name) {
  size_t q = name.find('?');
  return q == std::string_view::npos ? name : name.substr(0, q);
}

// "demo?rendition=source" → Rendition::source; no or another query → main.
Rendition play_rendition(std::string_view name) {
  size_t q = name.find('?');
  if (q == std::string_view::npos) return Rendition::main;
  std::string_view query = name.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, 10) == "rendition=") return parse_rendition(pair.substr(10)).value_or(Rendition::main);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return Rendition::main;
}

std::string first_string_arg(const rtmp::Command& c) {
  if (c.args.empty() || !c.args[0].is_string()) return {};
  return c.args[0].string;
}

}  // namespace

struct RtmpSession::ControlWrite {
  uv_write_t req{};
  RtmpSession* session = nullptr;
  std::vector<uint8_t> bytes;
};

RtmpSession::RtmpSession(std::shared_ptr<RtmpServerContext> ctx)
    : ctx_(std::move(ctx)),
      id_(ctx_->next_session_id++),
      handshake_(static_cast<uint64_t>(uv_hrtime()) ^ (id_ << 32), static_cast<uint32_t>(uv_now(ctx_->loop.uv()))),
      reader_(session_limits()) {}

RtmpSession::~RtmpSession() = default;

std::string RtmpSession::label() const { return "rtmp " + peer_; }

void RtmpSession::start(int fd) {
  uv_loop_t* loop = ctx_->loop.uv();
  uv_tcp_init(loop, &tcp_);
  tcp_.data = this;
  ++open_handles_;
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  ++open_handles_;
  if (int rc = uv_tcp_open(&tcp_, fd); rc != 0) {
    ::close(fd);
    log::warn("rtmp: accept failed: ", uv_strerror(rc));
    close();
    return;
  }
  peer_ = peer_name(&tcp_);
  uv_tcp_nodelay(&tcp_, 1);  // replies and small audio messages should not wait for Nagle
  started_ms_ = last_read_ms_ = uv_now(loop);
  uv_timer_start(&timer_, &RtmpSession::on_timer, kHandshakeTimeoutMs, kIdleCheckMs);
  if (int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &RtmpSession::on_alloc, &RtmpSession::on_read);
      rc != 0) {
    log::warn(label(), ": read failed: ", uv_strerror(rc));
    close();
    return;
  }
  log::debug(label(), ": connected");
}

void RtmpSession::close() {
  if (closing_) return;
  closing_ = true;
  // Ending the publisher first: the stream is free for a reconnecting anchor at once,
  // and viewers learn the publisher is gone.
  stop_publishing();
  stop_playing();
  if (open_handles_ == 0) {
    auto self = shared_from_this();
    ctx_->remove(this);
    return;
  }
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_)))
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &RtmpSession::on_closed);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_)))
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &RtmpSession::on_closed);
}

void RtmpSession::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<RtmpSession*>(handle->data);
  if (--self->open_handles_ > 0) return;
  // Keep the context alive past the erase: the session's destructor runs inside it.
  std::shared_ptr<RtmpServerContext> ctx = self->ctx_;
  ctx->remove(self);
}

void RtmpSession::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<RtmpSession*>(handle->data);
  // Input is parsed as it arrives, so the loop's one buffer is enough: what a peer can
  // make us hold is bounded by the chunk reader's limits, not by how fast it sends.
  auto& shared = self->ctx_->read_buffer;
  *buf = uv_buf_init(reinterpret_cast<char*>(shared.data()), static_cast<unsigned>(shared.size()));
}

void RtmpSession::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<RtmpSession*>(stream->data);
  if (nread == 0) return;
  if (nread < 0) {
    // ffmpeg and OBS close right after deleteStream with our reply unread, which the
    // kernel turns into a reset: for us that is an ordinary close.
    if (nread == UV_EOF || nread == UV_ECONNRESET)
      log::info(self->label(), ": closed by peer");
    else
      log::info(self->label(), ": read error: ", uv_strerror(static_cast<int>(nread)));
    self->close();
    return;
  }
  auto keep = self->shared_from_this();  // a close() below must not free us mid-call
  self->on_bytes(std::span(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)));
}

void RtmpSession::on_bytes(std::span<const uint8_t> in) {
  if (closing_ || draining_) return;
  bytes_in_ += in.size();
  ctx_->ingest_bytes.add(in.size());
  last_read_ms_ = uv_now(ctx_->loop.uv());

  if (!handshake_.done()) {
    auto used = handshake_.consume(in, out_);
    if (!used) return fail(used.error().message);
    in = in.subspan(*used);
    if (handshake_.done()) handshake_done_ms_ = last_read_ms_;
  }
  if (!in.empty()) {
    messages_.clear();
    Status status = reader_.feed(in, messages_);
    // Messages completed before a bad chunk are valid; act on them first (a publisher's
    // last frames), then drop the connection.
    for (auto& m : messages_) {
      if (closing_ || draining_) break;
      handle(m);
    }
    messages_.clear();
    if (!status && !closing_ && !draining_) return fail(status.error().message);
  }
  if (closing_ || draining_) return;  // a refusal already flushed what it had to say
  // 5.4.3: acknowledge every window's worth of bytes the peer asked for.
  if (peer_window_ > 0 && bytes_in_ - last_ack_ >= peer_window_) {
    last_ack_ = bytes_in_;
    queue(rtmp::make_acknowledgement(static_cast<uint32_t>(bytes_in_)));
  }
  flush();
}

void RtmpSession::handle(rtmp::Message& m) {
  switch (m.type_id) {
    case rtmp::msg::kSetChunkSize:
    case rtmp::msg::kAbort:
      return;  // applied by the chunk reader
    case rtmp::msg::kAcknowledgement:
    case rtmp::msg::kSetPeerBandwidth:
      // Flow control here is uv_write completion, not the peer's byte counts.
      return;
    case rtmp::msg::kWindowAckSize: {
      auto window = rtmp::parse_u32_control(m);
      if (!window) return fail(window.error().message);
      peer_window_ = *window;
      return;
    }
    case rtmp::msg::kUserControl: {
      auto uc = rtmp::parse_user_control(m);
      if (!uc) return fail(uc.error().message);
      // 7.1.7: a Ping Request must be answered with the same timestamp.
      if (uc->event == rtmp::UserControlEvent::ping_request)
        queue(rtmp::make_user_control(rtmp::UserControlEvent::ping_response, uc->value));
      return;
    }
    case rtmp::msg::kVideo:
    case rtmp::msg::kAudio: {
      if (!publish_) return;  // after deleteStream, or a confused player
      // The payload moves into the packet: the access unit is not copied again.
      Status s = m.type_id == rtmp::msg::kVideo ? publish_->on_video(m.timestamp, std::move(m.payload))
                                                : publish_->on_audio(m.timestamp, std::move(m.payload));
      if (!s) return fail(s.error().message);
      return;
    }
    case rtmp::msg::kDataAmf0:
    case rtmp::msg::kDataAmf3: {
      auto data = rtmp::parse_data(m);
      if (!data) return fail("data message: " + data.error().message);
      if (publish_ && data->name == "onMetaData" && !data->values.empty()) publish_->on_metadata(data->values[0]);
      return;
    }
    case rtmp::msg::kCommandAmf0:
    case rtmp::msg::kCommandAmf3: {
      auto command = rtmp::parse_command(m);
      if (!command) return fail("command: " + command.error().message);
      handle_command(*command, m);
      return;
    }
    default:
      // Shared objects, aggregates: nothing an encoder we support sends.
      log::debug(label(), ": ignoring message type ", int{m.type_id});
      return;
  }
}

void RtmpSession::handle_command(rtmp::Command& c, const rtmp::Message& m) {
  const rtmp::Amf0Value null = rtmp::Amf0Value::make_null();
  uint32_t stream_id = m.stream_id ? m.stream_id : kMessageStreamId;
  if (c.name == "connect") return on_connect(c);
  if (!connected_ && c.name != "_checkbw" && c.name != "_result" && c.name != "_error")
    return fail("command '" + c.name + "' before connect");
  if (c.name == "createStream") {
    queue(rtmp::make_command_result(0, c.transaction_id, null, rtmp::Amf0Value::make_number(kMessageStreamId)));
  } else if (c.name == "releaseStream" || c.name == "FCPublish" || c.name == "FCUnpublish") {
    // Flash Media Server extensions (not in the spec) that ffmpeg and OBS send before
    // publishing; they only need an answer to their transaction.
    if (c.transaction_id != 0)
      queue(rtmp::make_command_result(0, c.transaction_id, null, rtmp::Amf0Value::make_undefined()));
  } else if (c.name == "publish") {
    on_publish(c, stream_id);
  } else if (c.name == "play") {
    on_play(c, stream_id);
  } else if (c.name == "deleteStream" || c.name == "closeStream") {
    // 7.2.2.3 / 7.2.1.3: the NetStream ends, the NetConnection stays.
    stop_publishing();
    stop_playing();
  } else if (c.name == "getStreamLength") {
    if (c.transaction_id != 0) queue(rtmp::make_command_result(0, c.transaction_id, null, rtmp::Amf0Value::make_number(0)));
  } else {
    log::debug(label(), ": ignoring command '", c.name, "'");
  }
}

void RtmpSession::on_connect(const rtmp::Command& c) {
  if (connected_) return fail("second connect on one connection");
  connected_ = true;
  auto app = c.object.get_string("app").value_or("");
  log::debug(label(), ": connect app '", app, "'");
  // 7.2.1.1: Window Acknowledgement Size, Set Peer Bandwidth, then the _result. Set
  // Chunk Size is ours: bigger chunks mean fewer headers for video.
  queue(rtmp::make_window_ack_size(kWindowAckSize));
  queue(rtmp::make_set_peer_bandwidth(kWindowAckSize, rtmp::PeerBandwidthLimit::dynamic));
  queue(rtmp::make_set_chunk_size(kOutgoingChunkSize));
  writer_.set_chunk_size(kOutgoingChunkSize);  // applies to everything queued after it
  rtmp::Amf0Value props = rtmp::Amf0Value::make_object({
      {"fmsVer", rtmp::Amf0Value::make_string("FMS/3,0,1,123")},
      {"capabilities", rtmp::Amf0Value::make_number(31)},
      {"fourCcList", answer_fourcc_list(c.object)},
  });
  rtmp::Amf0Value info = rtmp::make_status_info("status", "NetConnection.Connect.Success", "Connection succeeded.");
  info.set("objectEncoding", rtmp::Amf0Value::make_number(0));  // AMF0 only
  queue(rtmp::make_command_result(0, c.transaction_id, props, info));
}

void RtmpSession::on_publish(const rtmp::Command& c, uint32_t stream_id) {
  if (publish_ || play_) return fail("publish on a connection that already publishes or plays");
  std::string key(strip_query(first_string_arg(c)));
  // The key is a secret: it appears in no log line, not even redacted.
  std::shared_ptr<Stream> stream = key.empty() ? nullptr : ctx_->hub.find_by_publish_key(key);
  if (!stream) {
    ctx_->reject_bad_key.add();
    log::warn(label(), ": publish refused: unknown stream key");
    queue(rtmp::make_on_status(stream_id, "error", "NetStream.Publish.BadName", "Unknown stream key."));
    return close_after_flush();
  }
  auto publisher = stream->begin_publish("rtmp");
  if (!publisher) {
    ctx_->reject_already_live.add();
    log::warn(label(), ": publish refused for stream '", stream->id(), "': ", publisher.error().message);
    queue(rtmp::make_on_status(stream_id, "error", "NetStream.Publish.BadName",
                               "Stream is already being published."));
    return close_after_flush();
  }
  stream_id_ = stream->id();
  was_media_ = true;
  publish_ = std::make_unique<RtmpPublish>(std::move(*publisher), label() + " stream '" + stream_id_ + "'");
  log::info(label(), ": publishing stream '", stream_id_, "'");
  queue(rtmp::make_user_control(rtmp::UserControlEvent::stream_begin, stream_id));
  queue(rtmp::make_on_status(stream_id, "status", "NetStream.Publish.Start", "Publishing " + stream_id_ + "."));
  queue(rtmp::make_fc_status("onFCPublish", "NetStream.Publish.Start", "Publishing " + stream_id_ + "."));
}

void RtmpSession::on_play(const rtmp::Command& c, uint32_t stream_id) {
  if (publish_ || play_) return fail("play on a connection that already publishes or plays");
  std::string full_name = first_string_arg(c);
  std::string name(strip_query(full_name));
  std::shared_ptr<Stream> stream = name.empty() ? nullptr : ctx_->hub.find(name, play_rendition(full_name));
  if (!stream) {
    log::info(label(), ": play refused: no stream '", name, "'");
    queue(rtmp::make_on_status(stream_id, "error", "NetStream.Play.StreamNotFound", "No such stream."));
    return close_after_flush();
  }
  stream_id_ = stream->id();
  was_media_ = true;
  // 7.2.2.1: Stream Begin, then NetStream.Play.Reset and NetStream.Play.Start.
  queue(rtmp::make_user_control(rtmp::UserControlEvent::stream_begin, stream_id));
  queue(rtmp::make_on_status(stream_id, "status", "NetStream.Play.Reset", "Playing and resetting " + stream_id_ + "."));
  queue(rtmp::make_on_status(stream_id, "status", "NetStream.Play.Start", "Started playing " + stream_id_ + "."));
  queue(rtmp::make_sample_access(stream_id));
  flush();  // before any media: the subscription may deliver at once
  // From here on the socket carries media to a player that sends almost nothing back:
  // let the kernel coalesce small writes (an audio message, a P-frame) while earlier
  // bytes are unacknowledged, as HTTP-FLV, nginx-rtmp and SRS do. Measured on loopback
  // (perf/RESULTS.md, issue 13): −30 % CPU per MB at 500 and 1,000 viewers, delivery
  // delay p50/p99 unchanged.
  uv_tcp_nodelay(&tcp_, 0);

  RtmpPlay::Hooks hooks;
  hooks.ended = [this] {
    log::info(label(), ": stream '", stream_id_, "' was removed; closing");
    queue(rtmp::make_on_status(kMessageStreamId, "status", "NetStream.Play.Stop", "Stream removed."));
    close_after_flush();
  };
  hooks.failed = [this](const char* why) {
    log::info(label(), ": write failed: ", why);
    close();
  };
  play_ = std::make_unique<RtmpPlay>(reinterpret_cast<uv_stream_t*>(&tcp_), writer_, stream_id, ctx_->play_loop,
                                     ctx_->egress_bytes, std::move(hooks));
  play_->start(*stream, ctx_->loop.ready(), *this);
  log::info(label(), ": playing stream '", stream_id_, "'");
  drain_play();
}

void RtmpSession::stop_publishing() {
  if (!publish_) return;
  log::info(label(), ": stopped publishing stream '", stream_id_, "' after ", publish_->packets(), " packets");
  publish_.reset();  // StreamPublisher's destructor ends the publisher session
}

void RtmpSession::stop_playing() { play_.reset(); }

void RtmpSession::drain_play() {
  // Control bytes never wait here: whatever queued a reply flushed it before returning
  // to the loop, so media cannot overtake one.
  if (closing_ || draining_ || !play_) return;
  play_->pump();
}

void RtmpSession::queue(const rtmp::Message& m) { writer_.append(m, out_); }

void RtmpSession::flush() {
  if (out_.empty() || closing_) return;
  auto* w = new ControlWrite;
  w->session = this;
  w->req.data = w;
  w->bytes = std::move(out_);
  out_ = {};
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(w->bytes.data()), static_cast<unsigned>(w->bytes.size()));
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, &RtmpSession::on_control_written);
  if (rc != 0) {
    delete w;
    log::info(label(), ": write failed: ", uv_strerror(rc));
    close();
  }
}

void RtmpSession::on_control_written(uv_write_t* req, int status) {
  std::unique_ptr<ControlWrite> w(static_cast<ControlWrite*>(req->data));
  RtmpSession* self = w->session;
  if (status < 0) {
    if (status != UV_ECANCELED && !self->closing_) {
      log::info(self->label(), ": write failed: ", uv_strerror(status));
      self->close();
    }
    return;
  }
  self->ctx_->egress_bytes.add(w->bytes.size());
}

void RtmpSession::fail(const std::string& reason) {
  if (closing_) return;
  ctx_->protocol_errors.add();
  if (!was_media_) ctx_->reject_protocol_error.add();
  log::warn(label(), ": protocol error: ", reason, "; closing");
  close();
}

void RtmpSession::close_after_flush() {
  if (closing_ || draining_) return;
  draining_ = true;
  draining_since_ms_ = uv_now(ctx_->loop.uv());
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  stop_publishing();
  stop_playing();
  flush();
  // uv_shutdown waits for the queued writes, so the refusal reaches the client.
  shutdown_req_.data = this;
  int rc = uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &RtmpSession::on_shutdown);
  if (rc != 0) close();
}

void RtmpSession::on_shutdown(uv_shutdown_t* req, int) {
  static_cast<RtmpSession*>(req->data)->close();
}

void RtmpSession::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<RtmpSession*>(timer->data);
  if (self->closing_) return;
  uint64_t now = uv_now(self->ctx_->loop.uv());
  std::string why;
  if (!self->handshake_.done()) {
    why = "handshake not finished after 10 s";
  } else if (self->draining_) {
    if (now - self->draining_since_ms_ >= kDrainTimeoutMs) why = "peer does not read; dropping queued replies";
  } else if (self->publish_) {
    if (now - self->last_read_ms_ >= kIdleTimeoutMs) why = "publisher sent nothing for 30 s";
  } else if (!self->play_) {
    if (now - std::max(self->handshake_done_ms_, self->last_read_ms_) >= kIdleTimeoutMs)
      why = "neither publishing nor playing for 30 s";
  }
  if (why.empty()) return;
  log::info(self->label(), ": ", why, "; closing");
  self->close();
}

}  // namespace anchorcast
