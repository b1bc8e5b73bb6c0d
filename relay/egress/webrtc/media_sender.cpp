#include "relay/egress/webrtc/media_sender.hpp"

#include <algorithm>
#include <cstring>

#include "relay/egress/webrtc/sender_loop.hpp"
#include "relay/egress/webrtc/webrtc_session.hpp"
#include "relay/protocol/rtcp/rtcp_builder.hpp"

namespace anchorcast::webrtc {

MediaSender::MediaSender(MediaSenderSetup setup, SenderLoop& loop, SessionCounters& counters,
                         std::function<void()> cues_ready)
    : setup_(std::move(setup)), loop_(loop), counters_(counters), cues_ready_(std::move(cues_ready)) {
  FeedDescription d = setup_.feed->description();
  video_.ssrc = d.video_ssrc;
  audio_.ssrc = d.audio_ssrc;
  report_.reserve(128);
}

MediaSender::~MediaSender() = default;

template <typename Change>
void MediaSender::request(Change change) {
  {
    std::lock_guard lock(mutex_);
    change(inbox_);
  }
  loop_.mark(*this);
}

void MediaSender::set_peer(const PeerAddress& peer) {
  request([&](Inbox& in) { in.peer = peer; });
}

void MediaSender::request_retransmissions(std::span<const rtcp::Nack> nacks) {
  if (nacks.empty()) return;
  request([&](Inbox& in) {
    size_t room = kMaxPendingNacks - std::min(kMaxPendingNacks, in.nacks.size());
    in.nacks.insert(in.nacks.end(), nacks.begin(), nacks.begin() + std::min(room, nacks.size()));
  });
}

void MediaSender::request_keyframe() {
  request([](Inbox& in) { in.keyframe = true; });
}

void MediaSender::report_due() {
  request([](Inbox& in) { in.report = true; });
}

void MediaSender::take_cues(std::vector<FeedCuePtr>& out) {
  std::lock_guard lock(mutex_);
  for (auto& c : cues_) out.push_back(std::move(c));
  cues_.clear();
}

void MediaSender::start() {
  RtpFeedSubscribeOptions options;
  options.notify = [this] { loop_.mark(*this); };
  subscription_ = setup_.feed->attach(std::move(options));
  loop_.mark(*this);  // requests made before the attach
}

void MediaSender::stop() {
  subscription_.reset();  // the feed notifies no more
  loop_.forget(*this);
}

void MediaSender::on_ready() {
  // A request can mark this sender before the loop ran its start (the post and the mark
  // race to the loop): the inbox keeps it for the run after start().
  if (!subscription_) return;
  {
    std::lock_guard lock(mutex_);
    if (inbox_.peer) setup_.peer = std::move(inbox_.peer);
    inbox_.peer.reset();
    taken_.nacks.swap(inbox_.nacks);
    taken_.keyframe = std::exchange(inbox_.keyframe, false);
    taken_.report = std::exchange(inbox_.report, false);
  }
  if (taken_.keyframe) subscription_->request_keyframe();
  SendBatch& out = loop_.batch();
  pump_media(out);
  for (const rtcp::Nack& nack : taken_.nacks) resend(nack, out);
  taken_.nacks.clear();
  if (taken_.report) send_sender_reports(out);
  if (subscription_->ended()) ended_.store(true, std::memory_order_release);
}

bool MediaSender::send_rtp(const RtpPacket& packet, uint16_t out_seq, SendBatch& out) {
  const auto& bytes = packet.bytes;
  if (bytes.size() < 12 || bytes.size() > SrtpRtpSealer::kMaxPacketBytes) return false;
  std::optional<uint8_t> pt = packet.kind == MediaKind::video ? setup_.video_payload_type : setup_.audio_payload_type;
  if (!pt) return false;
  std::span<uint8_t> slot = out.slot();
  std::memcpy(slot.data(), bytes.data(), bytes.size());
  slot[1] = static_cast<uint8_t>((slot[1] & 0x80) | (*pt & 0x7F));
  slot[2] = static_cast<uint8_t>(out_seq >> 8);
  slot[3] = static_cast<uint8_t>(out_seq);
  auto sealed = setup_.sealer.seal(slot, bytes.size());
  if (!sealed) {
    counters_.srtp_errors.add();
    return false;
  }
  out.commit(*sealed, *setup_.peer);
  return true;
}

void MediaSender::pump_media(SendBatch& out) {
  items_.clear();
  subscription_->pop_all(items_);
  // Cues first: the UDP thread sends them over SCTP while this seals the frames they are
  // stamped with, so a player holds a cue for its frame rather than drawing it late.
  if (subscription_->pop_cues(popped_cues_) > 0) {
    {
      std::lock_guard lock(mutex_);
      for (auto& c : popped_cues_) cues_.push_back(std::move(c));
    }
    popped_cues_.clear();
    cues_ready_();
  }
  if (setup_.peer) {
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
  }
  items_.clear();  // drop the packet references now, not at the next wake-up
}

void MediaSender::resend(const rtcp::Nack& nack, SendBatch& out) {
  OutgoingStream* s = nack.media_ssrc == video_.ssrc   ? &video_
                      : nack.media_ssrc == audio_.ssrc ? &audio_
                                                       : nullptr;
  if (!s || !s->started || !setup_.peer) return;
  MediaKind kind = s == &video_ ? MediaKind::video : MediaKind::audio;
  counters_.nacks.add();
  // Packets from before the latest replay map back with an older offset: they slid
  // out of reach, the viewer recovers at the replayed keyframe.
  RtpPacketPtr p = setup_.feed->find(kind, static_cast<uint16_t>(nack.sequence - s->offset));
  if (!p || p->kind != kind) return;
  if (send_rtp(*p, nack.sequence, out)) counters_.retransmissions.add();
}

void MediaSender::send_sender_reports(SendBatch& out) {
  if (!setup_.peer) return;
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
    report_.clear();
    if (!rtcp::append_sender_report(info, {}, report_) || !rtcp::append_sdes_cname(s->ssrc, cname, report_))
      continue;
    auto sealed = setup_.report_cipher.protect(report_);
    if (!sealed) {
      counters_.srtp_errors.add();
      continue;
    }
    out.send(*sealed, *setup_.peer);
  }
}

}  // namespace anchorcast::webrtc
