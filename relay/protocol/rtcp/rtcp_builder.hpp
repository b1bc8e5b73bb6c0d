// Building the RTCP a WebRTC sender sends (SR + SDES CNAME; BYE) and a receiver or
// load generator sends (RR, NACK, PLI). Each call appends one packet to `out`, so a
// compound is several calls into one reused buffer.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/rtcp/rtcp_packet.hpp"

namespace anchorcast::rtcp {

// NTP 32.32 timestamp (seconds since 1900) of a Unix time in µs (RFC 3550 §4).
uint64_t ntp_from_unix_us(int64_t unix_us);
// The "middle 32 bits" of an NTP timestamp, as LSR/DLSR use them (§6.4.1).
inline uint32_t ntp_middle32(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

// At most 31 report blocks per packet (the 5-bit count); more is an error.
Status append_sender_report(const SenderInfo& sender, std::span<const ReportBlock> reports, std::vector<uint8_t>& out);
Status append_receiver_report(uint32_t ssrc, std::span<const ReportBlock> reports, std::vector<uint8_t>& out);
// One chunk with a CNAME item (at most 255 bytes).
Status append_sdes_cname(uint32_t ssrc, std::string_view cname, std::vector<uint8_t>& out);
void append_bye(uint32_t ssrc, std::vector<uint8_t>& out);
// Generic NACK: `lost` sequence numbers packed into PID/BLP items, each PID taking the
// following 16 in its bitmask (in the order given; duplicates are harmless).
Status append_nack(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<const uint16_t> lost, std::vector<uint8_t>& out);
void append_pli(uint32_t sender_ssrc, uint32_t media_ssrc, std::vector<uint8_t>& out);

}  // namespace anchorcast::rtcp
