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
                                                             std::function<void()> notify,
                                                             Clock::time_point now) {
  if (!setup.feed || !setup.stream) return make_error("session without a stream");
  std::unique_ptr<WebRtcSession> session(new WebRtcSession(std::move(setup), sctp, counters, now));
  session->notify_ = std::move(notify);
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
                             Clock::time_point now)
    : setup_(std::move(setup)),
      counters_(counters),
      ice_(setup_.local, setup_.remote_ufrag, now),
      next_report_(now + kSenderReportInterval),
      sctp_library_(sctp) {
  FeedDescription d = setup_.feed->description();
  video_.ssrc = d.video_ssrc;
  audio_.ssrc = d.audio_ssrc;
  scratch_.reserve(64);
}

WebRtcSession::~WebRtcSession() = default;

IceLiteAgent::Check WebRtcSession::on_stun(std::span<const uint8_t> datagram, const stun::StunMessage& message,
                                           const PeerAddress& from, Clock::time_point now, SendBatch& out) {
  auto check = ice_.on_stun(datagram, message, from, now, scratch_);
  if (check != IceLiteAgent::Check::answered) return check;
  out.send(scratch_, from);
  flush_dtls(out);  // a flight written before the address was known
  return check;
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

void WebRtcSession::send_cues() {
  cues_.clear();
  feed_subscription_->pop_cues(cues_);
  // Cues before the channel opened are covered by its snapshot (the newest cue).
  for (const auto& cue : cues_) send_overlay_text(cue->cue_message);
  cues_.clear();
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
  rtp_sealer_.emplace(std::move(*sealer));
  rtcp_out_cipher_.emplace(std::move(*out));
  rtcp_in_cipher_.emplace(std::move(*in));
  log::info("webrtc: session ", setup_.id, " (", setup_.stream_id, ") connected, ", srtp_profile_name(keys.profile));
  // Attach only now: the join replay (latest GOP) goes out at once, nothing queues
  // while the handshake runs.
  RtpFeedSubscribeOptions options;
  options.notify = notify_;
  feed_subscription_ = setup_.feed->attach(std::move(options));
  start_sctp();
}

bool WebRtcSession::send_rtp(const RtpPacket& packet, uint16_t out_seq, SendBatch& out) {
  const auto& bytes = packet.bytes;
  if (bytes.size() < 12 || bytes.size() > SrtpRtpSealer::kMaxPacketBytes) return false;
  std::optional<uint8_t> pt = packet.kind == MediaKind::video ? setup_.video_payload_type : setup_.audio_payload_type;
  if (!pt) return false;
  std::span<uint8_t> slot = out.slot();
  std::memcpy(slot.data(), bytes.data(), bytes.size());
  slot[1] = static_cast<uint8_t>((slot[1] & 0x80) | (*pt & 0x7F));
  slot[2] = static_cast<uint8_t>(out_seq >> 8);
  slot[3] = static_cast<uint8_t>(out_seq);
  auto sealed = rtp_sealer_->seal(slot, bytes.size());
  if (!sealed) {
    counters_.srtp_errors.add();
    return false;
  }
  out.commit(*sealed, *ice_.selected());
  return true;
}

void WebRtcSession::pump_media(SendBatch& out) {
  if (!feed_subscription_) return;
  items_.clear();
  feed_subscription_->pop_all(items_);
  if (!rtp_sealer_ || !ice_.selected()) return;
  for (const auto& item : items_) {
    const RtpPacket& p = *item.packet;
    OutgoingStream& s = p.kind == MediaKind::video ? video_ : audio_;
    if (!s.started) {
      s.started = true;
      s.offset = 0;
    } else if (item.replayed && p.keyframe_start) {
      // A replay repeats sequence numbers the viewer has seen: continue ours instead.
      s.offset = static_cast<uint16_t>(s.last_out_seq + 1 - p.sequence);
    }
    uint16_t out_seq = static_cast<uint16_t>(p.sequence + s.offset);
    if (!send_rtp(p, out_seq, out)) continue;
    s.last_out_seq = out_seq;
    s.packets += 1;
    s.octets += static_cast<uint32_t>(p.bytes.size() - 12);
    s.last_timestamp = p.timestamp;
    s.last_wallclock_us = p.wallclock_us;
  }
  items_.clear();  // drop the packet references now, not at the next wake-up
  send_cues();
  flush_dtls(out);
}

void WebRtcSession::send_sender_reports(SendBatch& out) {
  if (!rtcp_out_cipher_ || !ice_.selected()) return;
  const std::string& cname = setup_.feed->description().cname;
  for (OutgoingStream* s : {&video_, &audio_}) {
    if (!s->started || s->last_wallclock_us <= 0) continue;
    // RFC 3550 6.4.1: NTP time and the RTP timestamp of the same instant — the latest
    // packet's pair, on the feed's one clock for both SSRCs (lip sync).
    rtcp::SenderInfo info;
    info.ssrc = s->ssrc;
    info.ntp_timestamp = rtcp::ntp_from_unix_us(s->last_wallclock_us);
    info.rtp_timestamp = s->last_timestamp;
    info.packet_count = s->packets;
    info.octet_count = s->octets;
    rtcp_out_.clear();
    if (!rtcp::append_sender_report(info, {}, rtcp_out_) || !rtcp::append_sdes_cname(s->ssrc, cname, rtcp_out_))
      continue;
    auto sealed = rtcp_out_cipher_->protect(rtcp_out_);
    if (!sealed) {
      counters_.srtp_errors.add();
      continue;
    }
    out.send(*sealed, *ice_.selected());
  }
}

void WebRtcSession::on_nack(uint32_t media_ssrc, uint16_t out_seq, SendBatch& out) {
  OutgoingStream* s = media_ssrc == video_.ssrc ? &video_ : media_ssrc == audio_.ssrc ? &audio_ : nullptr;
  if (!s || !s->started) return;
  MediaKind kind = s == &video_ ? MediaKind::video : MediaKind::audio;
  counters_.nacks.add();
  // Packets from before the latest replay map back with an older offset: they slid
  // out of reach, the viewer recovers at the replayed keyframe.
  RtpPacketPtr p = setup_.feed->find(kind, static_cast<uint16_t>(out_seq - s->offset));
  if (!p || (p->kind != kind)) return;
  if (send_rtp(*p, out_seq, out)) counters_.retransmissions.add();
}

void WebRtcSession::on_rtcp(std::span<uint8_t> datagram, SendBatch& out) {
  if (!rtcp_in_cipher_) {
    counters_.rtcp_dropped.add();
    return;
  }
  auto plain = rtcp_in_cipher_->unprotect(datagram);
  if (!plain || !rtcp::parse_rtcp(*plain, rtcp_in_)) {
    counters_.rtcp_dropped.add();
    return;
  }
  for (const auto& nack : rtcp_in_.nacks) on_nack(nack.media_ssrc, nack.sequence, out);
  if (!rtcp_in_.keyframe_requests.empty()) {
    counters_.plis.add(rtcp_in_.keyframe_requests.size());
    // Each replay resends the whole latest GOP: a viewer repeating PLI while the
    // previous replay is still in flight gets that one, not another burst.
    auto now = Clock::now();
    if (feed_subscription_ && now - last_replay_ >= kMinReplayInterval) {
      last_replay_ = now;
      feed_subscription_->request_keyframe();
    }
  }
}

void WebRtcSession::on_tick(Clock::time_point now, SendBatch& out) {
  if (auto wait = dtls_->timeout(); wait && wait->count() == 0) dtls_->on_timeout();
  flush_dtls(out);  // DTLS retransmissions, and SCTP's (the server ran usrsctp's timers)
  if (now >= next_report_) {
    next_report_ = now + kSenderReportInterval;
    send_sender_reports(out);
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
  if (feed_subscription_ && feed_subscription_->ended()) return std::string("the stream was removed");
  return std::nullopt;
}

}  // namespace anchorcast::webrtc
