#include "relay/protocol/rtcp/rtcp_builder.hpp"

#include "relay/protocol/bits/byte_writer.hpp"

namespace anchorcast::rtcp {
namespace {

// Writes a header with a length to be fixed by end_packet(); returns its offset.
size_t begin_packet(std::vector<uint8_t>& out, uint8_t count, uint8_t type) {
  const size_t at = out.size();
  out.push_back(static_cast<uint8_t>(0x80 | (count & 0x1F)));
  out.push_back(type);
  bits::append_be16(out, 0);
  return at;
}

void end_packet(std::vector<uint8_t>& out, size_t at) {
  const size_t words = (out.size() - at) / 4 - 1;
  out[at + 2] = static_cast<uint8_t>(words >> 8);
  out[at + 3] = static_cast<uint8_t>(words);
}

void put_report_block(std::vector<uint8_t>& out, const ReportBlock& r) {
  bits::append_be32(out, r.source_ssrc);
  out.push_back(r.fraction_lost);
  const uint32_t lost = static_cast<uint32_t>(r.cumulative_lost) & 0xFFFFFF;
  out.push_back(static_cast<uint8_t>(lost >> 16));
  bits::append_be16(out, static_cast<uint16_t>(lost));
  bits::append_be32(out, r.highest_sequence);
  bits::append_be32(out, r.jitter);
  bits::append_be32(out, r.last_sr);
  bits::append_be32(out, r.delay_since_last_sr);
}

}  // namespace

uint64_t ntp_from_unix_us(int64_t unix_us) {
  constexpr uint64_t kUnixToNtpSeconds = 2208988800ull;  // 1900-01-01 to 1970-01-01
  const uint64_t us = static_cast<uint64_t>(unix_us);
  const uint64_t seconds = us / 1000000 + kUnixToNtpSeconds;
  const uint64_t fraction = ((us % 1000000) << 32) / 1000000;
  return seconds << 32 | fraction;
}

Status append_sender_report(const SenderInfo& s, std::span<const ReportBlock> reports, std::vector<uint8_t>& out) {
  if (reports.size() > 31) return make_error("an RTCP SR holds at most 31 report blocks");
  const size_t at = begin_packet(out, static_cast<uint8_t>(reports.size()), kSenderReport);
  bits::append_be32(out, s.ssrc);
  bits::append_be32(out, static_cast<uint32_t>(s.ntp_timestamp >> 32));
  bits::append_be32(out, static_cast<uint32_t>(s.ntp_timestamp));
  bits::append_be32(out, s.rtp_timestamp);
  bits::append_be32(out, s.packet_count);
  bits::append_be32(out, s.octet_count);
  for (const auto& r : reports) put_report_block(out, r);
  end_packet(out, at);
  return {};
}

Status append_receiver_report(uint32_t ssrc, std::span<const ReportBlock> reports, std::vector<uint8_t>& out) {
  if (reports.size() > 31) return make_error("an RTCP RR holds at most 31 report blocks");
  const size_t at = begin_packet(out, static_cast<uint8_t>(reports.size()), kReceiverReport);
  bits::append_be32(out, ssrc);
  for (const auto& r : reports) put_report_block(out, r);
  end_packet(out, at);
  return {};
}

Status append_sdes_cname(uint32_t ssrc, std::string_view cname, std::vector<uint8_t>& out) {
  if (cname.size() > 255) return make_error("an RTCP CNAME is at most 255 bytes");
  const size_t at = begin_packet(out, 1, kSourceDescription);
  bits::append_be32(out, ssrc);
  out.push_back(1);
  out.push_back(static_cast<uint8_t>(cname.size()));
  out.insert(out.end(), cname.begin(), cname.end());
  // The null item, then padding to a 32-bit boundary (§6.5).
  do out.push_back(0);
  while ((out.size() - at) % 4 != 0);
  end_packet(out, at);
  return {};
}

void append_bye(uint32_t ssrc, std::vector<uint8_t>& out) {
  const size_t at = begin_packet(out, 1, kBye);
  bits::append_be32(out, ssrc);
  end_packet(out, at);
}

Status append_nack(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<const uint16_t> lost, std::vector<uint8_t>& out) {
  if (lost.empty()) return make_error("a generic NACK needs at least one lost sequence number");
  if (lost.size() > 16000) return make_error("too many lost sequence numbers for one NACK");
  const size_t at = begin_packet(out, kFmtNack, kTransportFeedback);
  bits::append_be32(out, sender_ssrc);
  bits::append_be32(out, media_ssrc);
  size_t i = 0;
  while (i < lost.size()) {
    const uint16_t pid = lost[i++];
    uint16_t blp = 0;
    while (i < lost.size()) {
      const uint16_t distance = static_cast<uint16_t>(lost[i] - pid);
      if (distance == 0) {
        ++i;
        continue;
      }
      if (distance > 16) break;
      blp = static_cast<uint16_t>(blp | (1u << (distance - 1)));
      ++i;
    }
    bits::append_be16(out, pid);
    bits::append_be16(out, blp);
  }
  end_packet(out, at);
  return {};
}

void append_pli(uint32_t sender_ssrc, uint32_t media_ssrc, std::vector<uint8_t>& out) {
  const size_t at = begin_packet(out, kFmtPli, kPayloadFeedback);
  bits::append_be32(out, sender_ssrc);
  bits::append_be32(out, media_ssrc);
  end_packet(out, at);
}

}  // namespace anchorcast::rtcp
