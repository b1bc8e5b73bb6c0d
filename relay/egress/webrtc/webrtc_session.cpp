#include "relay/egress/webrtc/webrtc_session.hpp"

#include <cstring>

#include "anchorcast/core/log.hpp"
#include "relay/protocol/dcep/dcep_message.hpp"
#include "relay/protocol/rtcp/rtcp_builder.hpp"
#include "relay/protocol/sctp/sctp_packet.hpp"
#include "relay/protocol/sdp/answer.hpp"

namespace anchorcast::webrtc {

namespace {

constexpr auto kSenderReportInterval = std::chrono::seconds(1);
constexpr auto kMinReplayInterval = std::chrono::milliseconds(500);
constexpr size_t kMaxInboundMessages = 64;  // per DTLS datagram; a viewer only opens channels

}  // namespace

Result<std::unique_ptr<WebRtcSession>> WebRtcSession::create(SessionSetup setup, const DtlsContext& dtls,
                                                             SctpLibrary& sctp, SessionCounters& counters,
                                                             SenderLoop& sender_loop,
                                                             std::function<void()> cues_ready,
                                                             Clock::time_point now) {
  if (!setup.feed || !setup.stream) return make_error("session without a stream");
  std::unique_ptr<WebRtcSession> session(new WebRtcSession(std::move(setup), sctp, counters, sender_loop, now));
  session->cues_ready_ = std::move(cues_ready);
  WebRtcSession* self = session.get();
  auto transport = DtlsTransport::create(dtls, session->setup_.remote_fingerprint,
                                         [self](std::span<const uint8_t> d) {
                                           self->dtls_out_.emplace_back(d.begin(), d.end());
                                         });
  if (!transport) return transport.error();
  session->dtls_ = std::move(*transport);
  session->dtls_->set_data_handler([self](std::span<const uint8_t> record) { self->on_dtls_data(record); });
  session->viewer_count_ = session->setup_.stream->count_viewer(ViewerProtocol::webrtc);
  return session;
}

WebRtcSession::WebRtcSession(SessionSetup setup, SctpLibrary& sctp, SessionCounters& counters,
                             SenderLoop& sender_loop, Clock::time_point now)
    : setup_(std::move(setup)),
      counters_(counters),
      sender_loop_(sender_loop),
      ice_(setup_.local, setup_.remote_ufrag, now),
      next_report_(now + kSenderReportInterval),
      sctp_library_(sctp) {
  scratch_.reserve(64);
}

WebRtcSession::~WebRtcSession() {
  if (sender_) sender_loop_.retire(std::move(sender_));
}

IceLiteAgent::Check WebRtcSession::on_stun(std::span<const uint8_t> datagram, const stun::StunMessage& message,
                                           const PeerAddress& from, Clock::time_point now, SendBatch& out) {
  auto check = ice_.on_stun(datagram, message, from, now, scratch_);
  if (check != IceLiteAgent::Check::answered) return check;
  out.send(scratch_, from);
  flush_dtls(out);  // a flight written before the address was known
  tell_sender_the_peer();
  return check;
}

void WebRtcSession::tell_sender_the_peer() {
  const std::optional<PeerAddress>& selected = ice_.selected();
  if (!sender_ || !selected || sender_peer_ == selected) return;
  sender_peer_ = selected;
  sender_->set_peer(*selected);
}

void WebRtcSession::flush_dtls(SendBatch& out) {
  if (!ice_.selected()) return;  // kept until ICE has an address
  for (const auto& d : dtls_out_) out.send(d, *ice_.selected());
  dtls_out_.clear();
}

void WebRtcSession::on_dtls(std::span<const uint8_t> datagram, SendBatch& out) {
  auto before = dtls_->state();
  auto st = dtls_->receive(datagram);
  flush_dtls(out);
  if (!st && (dtls_->state() == DtlsTransport::State::connected ||
              dtls_->state() == DtlsTransport::State::handshaking)) {
    counters_.dtls_dropped.add();  // a truncated or stray record: OpenSSL skipped it
    return;
  }
  if (!st && dtls_->state() == DtlsTransport::State::failed) {
    if (before != DtlsTransport::State::failed) {
      counters_.dtls_failed.add();
      failure_ = st.error().message;
      log::info("webrtc: session ", setup_.id, " (", setup_.stream_id, "): ", failure_);
    }
    return;
  }
  if (dtls_->state() == DtlsTransport::State::closed && failure_.empty()) failure_ = "the viewer closed DTLS";
  if (before == DtlsTransport::State::handshaking && dtls_->state() == DtlsTransport::State::connected)
    on_dtls_connected();
  flush_dtls(out);  // SCTP's INIT, or what usrsctp answered to the records just read
}

void WebRtcSession::start_sctp() {
  if (!setup_.remote_sctp_port) return;
  SctpAssociation::Callbacks callbacks;
  callbacks.send_packet = [this](std::span<const uint8_t> packet) {
    if (!dtls_->write(packet)) counters_.sctp_dropped.add();
  };
  callbacks.on_message = [this](uint16_t stream, uint32_t ppid, std::span<const uint8_t> bytes) {
    if (inbound_.size() >= kMaxInboundMessages) return counters_.dcep_dropped.add();
    inbound_.push_back({stream, ppid, {bytes.begin(), bytes.end()}});
  };
  callbacks.on_stream_reset = [this](uint16_t stream) {
    if (overlay_stream_ == stream) overlay_stream_.reset();  // RFC 8831 §6.7: the viewer closed it
  };
  auto sctp = SctpAssociation::create(sctp_library_, sdp::kOurSctpPort, *setup_.remote_sctp_port, std::move(callbacks));
  if (!sctp) {
    log::warn("webrtc: session ", setup_.id, ": no data channel: ", sctp.error().message);
    return;
  }
  sctp_ = std::move(*sctp);
  if (auto st = sctp_->connect(); !st) {
    log::warn("webrtc: session ", setup_.id, ": no data channel: ", st.error().message);
    sctp_.reset();
  }
}

void WebRtcSession::on_dtls_data(std::span<const uint8_t> record) {
  // RFC 8261 §5: each record is one SCTP packet. Checked here so that garbage is
  // counted (usrsctp drops it silently).
  if (!sctp_ || !sctp::check_packet(record)) return counters_.sctp_dropped.add();
  sctp_->receive(record);
  // usrsctp only queued what it handed up; act on it now that it returned.
  for (auto& m : inbound_) on_sctp_message(m.stream, m.ppid, m.bytes);
  inbound_.clear();
}

void WebRtcSession::on_sctp_message(uint16_t stream, uint32_t ppid, std::span<const uint8_t> message) {
  if (ppid == dcep::kPpidDcep) return on_dcep(stream, message);
  // The overlay channel is one-way; whatever a viewer sends on a channel is ignored.
}

void WebRtcSession::on_dcep(uint16_t stream, std::span<const uint8_t> message) {
  auto type = dcep::message_type(message);
  if (!type) return counters_.dcep_dropped.add();
  if (*type == dcep::kMessageAck) return;  // we open no channel ourselves
  if (*type != dcep::kMessageOpen) return counters_.dcep_dropped.add();
  auto open = dcep::parse_open(message);
  if (!open) return counters_.dcep_dropped.add();
  // RFC 8832 §6: the receiver of an OPEN answers with an ACK on the same stream. Every
  // channel is acknowledged; only "overlay" carries anything.
  dcep_out_.clear();
  dcep::append_ack(dcep_out_);
  if (auto st = sctp_->send(stream, dcep::kPpidDcep, dcep_out_); !st) {
    log::info("webrtc: session ", setup_.id, ": DCEP ACK not sent: ", st.error().message);
    return;
  }
  if (open->label != kOverlayChannelLabel || overlay_stream_) return;
  overlay_stream_ = stream;
  // A viewer who joins late gets the current overlay state at once (issue 7).
  FeedCuePtr latest = setup_.feed->latest_cue();
  send_overlay_text(latest ? latest->snapshot_message : empty_snapshot_message());
}

void WebRtcSession::send_overlay_text(const std::string& text) {
  if (!sctp_ || !overlay_stream_) return;
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  if (auto st = sctp_->send(*overlay_stream_, dcep::kPpidString, bytes); !st) {
    log::info("webrtc: session ", setup_.id, ": overlay message not sent: ", st.error().message);
    return;
  }
  counters_.cues_sent.add();
}

void WebRtcSession::deliver_cues(SendBatch& out) {
  if (!sender_) return;
  cues_.clear();
  sender_->take_cues(cues_);
  // Cues before the channel opened are covered by its snapshot (the newest cue).
  for (const auto& cue : cues_) send_overlay_text(cue->cue_message);
  cues_.clear();
  flush_dtls(out);
}

void WebRtcSession::on_dtls_connected() {
  const SrtpKeys& keys = *dtls_->srtp_keys();
  auto out = SrtcpCipher::create(keys.profile, keys.local.span());
  auto in = SrtcpCipher::create(keys.profile, keys.remote.span());
  auto sealer = SrtpRtpSealer::create(keys.profile, keys.local.span());
  if (!out || !in || !sealer) {
    failure_ = "SRTP: " + (!out ? out.error().message : !in ? in.error().message : sealer.error().message);
    counters_.dtls_failed.add();
    return;
  }
  rtcp_in_cipher_.emplace(std::move(*in));
  log::info("webrtc: session ", setup_.id, " (", setup_.stream_id, ") connected, ", srtp_profile_name(keys.profile));
  // The sender attaches to the feed only now: the join replay (latest GOP) goes out at
  // once, nothing queues while the handshake runs.
  MediaSenderSetup media{setup_.feed,
                         setup_.video_payload_type,
                         setup_.audio_payload_type,
                         std::move(*sealer),
                         std::move(*out),
                         std::nullopt};
  media.peer = sender_peer_ = ice_.selected();
  sender_ = std::make_shared<MediaSender>(std::move(media), sender_loop_, counters_, cues_ready_);
  sender_loop_.adopt(sender_);
  start_sctp();
}

void WebRtcSession::on_rtcp(std::span<uint8_t> datagram) {
  if (!rtcp_in_cipher_) {
    counters_.rtcp_dropped.add();
    return;
  }
  auto plain = rtcp_in_cipher_->unprotect(datagram);
  if (!plain || !rtcp::parse_rtcp(*plain, rtcp_in_)) {
    counters_.rtcp_dropped.add();
    return;
  }
  if (!sender_) return;  // made with the cipher in on_dtls_connected()
  sender_->request_retransmissions(rtcp_in_.nacks);
  if (!rtcp_in_.keyframe_requests.empty()) {
    counters_.plis.add(rtcp_in_.keyframe_requests.size());
    // Each replay resends the whole latest GOP: a viewer repeating PLI while the
    // previous replay is still in flight gets that one, not another burst.
    auto now = Clock::now();
    if (now - last_replay_ >= kMinReplayInterval) {
      last_replay_ = now;
      sender_->request_keyframe();
    }
  }
}

void WebRtcSession::on_tick(Clock::time_point now, SendBatch& out) {
  if (auto wait = dtls_->timeout(); wait && wait->count() == 0) dtls_->on_timeout();
  flush_dtls(out);  // DTLS retransmissions, and SCTP's (the server ran usrsctp's timers)
  if (now >= next_report_) {
    next_report_ = now + kSenderReportInterval;
    if (sender_) sender_->report_due();
  }
}

void WebRtcSession::close(SendBatch& out) {
  sctp_.reset();  // its ABORT goes out before close_notify
  dtls_->close();
  flush_dtls(out);
}

std::optional<std::string> WebRtcSession::end_reason(Clock::time_point now) const {
  if (!failure_.empty()) return failure_;
  if (dtls_->state() == DtlsTransport::State::failed) return std::string("DTLS failed");
  if (ice_.consent_expired(now)) return std::string("no ICE consent for 30 s");
  if (sender_ && sender_->ended()) return std::string("the stream was removed");
  return std::nullopt;
}

}  // namespace anchorcast::webrtc
