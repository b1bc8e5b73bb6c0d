#include "relay/protocol/rtcp/rtcp_packet.hpp"

#include <string>

#include "relay/protocol/bits/byte_order.hpp"

namespace anchorcast::rtcp {
namespace {

using bits::load_be16;
using bits::load_be32;

Error packet_error(size_t offset, std::string what) {
  return make_error("RTCP packet at byte " + std::to_string(offset) + ": " + std::move(what));
}

Status parse_report_blocks(std::span<const uint8_t> body, size_t count, uint32_t reporter, size_t offset,
                           CompoundRtcp& out) {
  if (body.size() < count * 24) return packet_error(offset, std::to_string(count) + " report blocks do not fit");
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* b = body.data() + i * 24;
    ReportBlock r;
    r.reporter_ssrc = reporter;
    r.source_ssrc = load_be32(b);
    r.fraction_lost = b[4];
    const uint32_t lost = uint32_t{b[5]} << 16 | uint32_t{b[6]} << 8 | b[7];
    r.cumulative_lost = (lost & 0x800000) ? static_cast<int32_t>(lost | 0xFF000000u) : static_cast<int32_t>(lost);
    r.highest_sequence = load_be32(b + 8);
    r.jitter = load_be32(b + 12);
    r.last_sr = load_be32(b + 16);
    r.delay_since_last_sr = load_be32(b + 20);
    out.report_blocks.push_back(r);
  }
  return {};
}

Status parse_sdes(std::span<const uint8_t> body, size_t chunks, size_t offset, CompoundRtcp& out) {
  size_t pos = 0;
  for (size_t c = 0; c < chunks; ++c) {
    if (body.size() - pos < 4) return packet_error(offset, "SDES chunk cut off");
    const uint32_t ssrc = load_be32(&body[pos]);
    pos += 4;
    // Items until a null item, then padding to the next 32-bit boundary (§6.5).
    while (true) {
      if (pos >= body.size()) return packet_error(offset, "SDES chunk without its terminating null item");
      const uint8_t type = body[pos];
      if (type == 0) {
        pos = (pos + 4) & ~size_t{3};
        break;
      }
      if (body.size() - pos < 2) return packet_error(offset, "SDES item header cut off");
      const size_t length = body[pos + 1];
      if (body.size() - pos - 2 < length) return packet_error(offset, "SDES item runs past the packet");
      if (type == 1)
        out.cnames.push_back({ssrc, {reinterpret_cast<const char*>(&body[pos + 2]), length}});
      pos += 2 + length;
    }
    if (pos > body.size()) return packet_error(offset, "SDES chunk padding runs past the packet");
  }
  return {};
}

Status parse_nack(std::span<const uint8_t> fci, uint32_t sender, uint32_t media, size_t offset, CompoundRtcp& out) {
  if (fci.size() % 4 != 0 || fci.empty()) return packet_error(offset, "generic NACK without whole PID/BLP items");
  for (size_t i = 0; i < fci.size(); i += 4) {
    const uint16_t pid = load_be16(&fci[i]);
    const uint16_t blp = load_be16(&fci[i + 2]);
    for (int bit = -1; bit < 16; ++bit) {
      if (bit >= 0 && !(blp & (1u << bit))) continue;
      if (out.nacks.size() >= kMaxNackedSequences) {
        ++out.nacks_dropped;
        continue;
      }
      out.nacks.push_back({sender, media, static_cast<uint16_t>(pid + 1 + bit)});
    }
  }
  return {};
}

}  // namespace

void CompoundRtcp::clear() {
  sender_reports.clear();
  report_blocks.clear();
  cnames.clear();
  byes.clear();
  nacks.clear();
  keyframe_requests.clear();
  ignored_packets = 0;
  nacks_dropped = 0;
}

bool looks_like_rtcp(std::span<const uint8_t> d) {
  return d.size() >= 8 && (d[0] >> 6) == 2 && d[1] >= 192 && d[1] <= 223;
}

Status parse_rtcp(std::span<const uint8_t> datagram, CompoundRtcp& out) {
  out.clear();
  if (datagram.size() < 4) return make_error("RTCP datagram shorter than a header");
  size_t pos = 0;
  while (pos < datagram.size()) {
    if (datagram.size() - pos < 4) return packet_error(pos, "header cut off");
    const uint8_t* h = &datagram[pos];
    if ((h[0] >> 6) != 2) return packet_error(pos, "version is not 2");
    const bool padding = h[0] & 0x20;
    const uint8_t count = h[0] & 0x1F;  // RC, SC or FMT
    const uint8_t type = h[1];
    const size_t size = (size_t{load_be16(h + 2)} + 1) * 4;
    if (size > datagram.size() - pos)
      return packet_error(pos, "length of " + std::to_string(size) + " bytes runs past the datagram");
    std::span<const uint8_t> body = datagram.subspan(pos + 4, size - 4);
    if (padding) {
      // §6.4.1: only the last packet of a compound may be padded.
      if (pos + size != datagram.size()) return packet_error(pos, "padding on a packet that is not the last");
      const size_t pad = body.empty() ? 0 : body.back();
      if (pad == 0 || pad > body.size()) return packet_error(pos, "padding count is zero or too large");
      body = body.first(body.size() - pad);
    }
    switch (type) {
      case kSenderReport: {
        if (body.size() < 24) return packet_error(pos, "sender report shorter than its sender info");
        SenderInfo s;
        s.ssrc = load_be32(&body[0]);
        s.ntp_timestamp = uint64_t{load_be32(&body[4])} << 32 | load_be32(&body[8]);
        s.rtp_timestamp = load_be32(&body[12]);
        s.packet_count = load_be32(&body[16]);
        s.octet_count = load_be32(&body[20]);
        out.sender_reports.push_back(s);
        if (auto st = parse_report_blocks(body.subspan(24), count, s.ssrc, pos, out); !st) return st;
        break;
      }
      case kReceiverReport: {
        if (body.size() < 4) return packet_error(pos, "receiver report without its SSRC");
        if (auto st = parse_report_blocks(body.subspan(4), count, load_be32(&body[0]), pos, out); !st) return st;
        break;
      }
      case kSourceDescription:
        if (auto st = parse_sdes(body, count, pos, out); !st) return st;
        break;
      case kBye:
        if (body.size() < count * 4u) return packet_error(pos, "BYE lists more SSRCs than it holds");
        for (size_t i = 0; i < count; ++i) out.byes.push_back(load_be32(&body[i * 4]));
        break;
      case kTransportFeedback:
      case kPayloadFeedback: {
        if (body.size() < 8) return packet_error(pos, "feedback message shorter than its two SSRCs");
        const uint32_t sender = load_be32(&body[0]);
        const uint32_t media = load_be32(&body[4]);
        const std::span<const uint8_t> fci = body.subspan(8);
        if (type == kTransportFeedback && count == kFmtNack) {
          if (auto st = parse_nack(fci, sender, media, pos, out); !st) return st;
        } else if (type == kPayloadFeedback && count == kFmtPli) {
          out.keyframe_requests.push_back({sender, media, false, 0});
        } else if (type == kPayloadFeedback && count == kFmtFir) {
          // RFC 5104 §4.3.1.1: the media SSRC field is unused; one FCI per target.
          if (fci.empty() || fci.size() % 8 != 0) return packet_error(pos, "FIR without whole FCI entries");
          for (size_t i = 0; i < fci.size(); i += 8) out.keyframe_requests.push_back({sender, load_be32(&fci[i]), true, fci[i + 4]});
        } else {
          ++out.ignored_packets;  // REMB (PSFB 15), transport-cc (RTPFB 15), others
        }
        break;
      }
      default:
        ++out.ignored_packets;
        break;
    }
    pos += size;
  }
  return {};
}

}  // namespace anchorcast::rtcp
