// Compound RTCP (RFC 3550 §6) as a WebRTC sender meets it: sender and receiver reports,
// SDES CNAME, BYE, generic NACK (RFC 4585 §6.2.1), PLI (§6.3.1) and FIR (RFC 5104
// §4.3.1). REMB, XR, APP and unknown packets are skipped and counted. Parsed bounded
// into a caller-owned CompoundRtcp whose vectors are reused between packets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::rtcp {

inline constexpr uint8_t kSenderReport = 200;
inline constexpr uint8_t kReceiverReport = 201;
inline constexpr uint8_t kSourceDescription = 202;
inline constexpr uint8_t kBye = 203;
inline constexpr uint8_t kTransportFeedback = 205;  // RTPFB
inline constexpr uint8_t kPayloadFeedback = 206;    // PSFB
inline constexpr uint8_t kFmtNack = 1;
inline constexpr uint8_t kFmtPli = 1;
inline constexpr uint8_t kFmtFir = 4;
inline constexpr uint8_t kFmtAfb = 15;  // application layer feedback (REMB)

// NACKed sequence numbers kept per compound packet; the rest are dropped (counted).
inline constexpr size_t kMaxNackedSequences = 2048;

struct SenderInfo {
  uint32_t ssrc = 0;
  uint64_t ntp_timestamp = 0;  // 32.32 fixed point seconds since 1900
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};

struct ReportBlock {
  uint32_t reporter_ssrc = 0;  // the SR/RR sender
  uint32_t source_ssrc = 0;    // the stream reported on
  uint8_t fraction_lost = 0;   // /256
  int32_t cumulative_lost = 0; // 24-bit signed
  uint32_t highest_sequence = 0;
  uint32_t jitter = 0;
  uint32_t last_sr = 0;              // middle 32 bits of the SR's NTP timestamp
  uint32_t delay_since_last_sr = 0;  // 1/65536 s
};

struct Nack {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  uint16_t sequence = 0;  // one lost packet (PID and BLP expanded)
};

struct KeyframeRequest {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  bool fir = false;           // false: PLI
  uint8_t fir_sequence = 0;   // FIR command sequence number (repeats are retransmissions)
};

struct Cname {
  uint32_t ssrc = 0;
  std::string_view cname;  // a view into the parsed bytes
};

struct CompoundRtcp {
  std::vector<SenderInfo> sender_reports;
  std::vector<ReportBlock> report_blocks;
  std::vector<Cname> cnames;
  std::vector<uint32_t> byes;
  std::vector<Nack> nacks;
  std::vector<KeyframeRequest> keyframe_requests;
  size_t ignored_packets = 0;  // REMB, XR, APP, unknown
  size_t nacks_dropped = 0;    // past kMaxNackedSequences

  void clear();
};

// RFC 5761 §4: RTP and RTCP share the port; RTCP packet types 192..223 sit where an RTP
// packet has marker + payload type 64..95, which WebRTC never uses.
bool looks_like_rtcp(std::span<const uint8_t> datagram);

// Clears `out`, then parses every packet of the compound. Fails on the first malformed
// one (what was parsed before it stays in `out`).
Status parse_rtcp(std::span<const uint8_t> datagram, CompoundRtcp& out);

}  // namespace anchorcast::rtcp
