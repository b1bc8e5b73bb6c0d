// One plaintext RTP packet built once per stream and shared by every WebRTC viewer of
// that stream (refcounted, immutable). A session copies `bytes` into its own reused
// buffer, rewrites what its negotiation needs (payload type byte, sequence number) and
// SRTP-protects that copy; the shared packet is never touched.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "anchorcast/media/packet.hpp"

namespace anchorcast::webrtc {

struct RtpPacket {
  MediaKind kind = MediaKind::video;
  uint32_t ssrc = 0;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;       // 90 kHz (video) or 48 kHz (audio), same origin for both
  bool marker = false;          // video: last packet of an access unit
  bool keyframe_start = false;  // first packet of a keyframe AU (the STAP-A led by SPS+PPS)
  // Unix time in µs this packet's timestamp stands for, on one clock for audio and
  // video: an RTCP sender report may pair (wallclock_us, timestamp) of the latest packet
  // sent on an SSRC as its NTP/RTP timestamps, and the browser syncs lips from that.
  int64_t wallclock_us = 0;
  std::vector<uint8_t> bytes;   // the whole RTP packet: 12-byte header + payload
};

using RtpPacketPtr = std::shared_ptr<const RtpPacket>;

}  // namespace anchorcast::webrtc
