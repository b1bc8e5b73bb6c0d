#include "relay/protocol/rtp/rtp_header.hpp"

#include <cstring>
#include <string>

#include "relay/protocol/bits/byte_order.hpp"

namespace anchorcast::rtp {
namespace {

using bits::load_be16;
using bits::load_be32;
using bits::store_be16;
using bits::store_be32;

}  // namespace

Result<RtpPacketView> parse_rtp(std::span<const uint8_t> d) {
  if (d.size() < kFixedHeaderSize)
    return make_error("RTP packet of " + std::to_string(d.size()) + " bytes is shorter than its 12-byte header");
  if ((d[0] >> 6) != 2) return make_error("RTP version is " + std::to_string(d[0] >> 6) + ", not 2");
  RtpPacketView v;
  RtpHeader& h = v.header;
  const bool padding = d[0] & 0x20;
  h.has_extension = d[0] & 0x10;
  h.csrc_count = d[0] & 0x0F;
  h.marker = d[1] & 0x80;
  h.payload_type = d[1] & 0x7F;
  h.sequence = load_be16(&d[2]);
  h.timestamp = load_be32(&d[4]);
  h.ssrc = load_be32(&d[8]);
  size_t pos = kFixedHeaderSize;
  if (d.size() - pos < 4u * h.csrc_count) return make_error("RTP CSRC list runs past the packet");
  for (size_t i = 0; i < h.csrc_count; ++i, pos += 4) h.csrcs[i] = load_be32(&d[pos]);
  if (h.has_extension) {
    if (d.size() - pos < 4) return make_error("RTP header extension header runs past the packet");
    h.extension_profile = load_be16(&d[pos]);
    const size_t words = load_be16(&d[pos + 2]);
    pos += 4;
    if (d.size() - pos < words * 4) return make_error("RTP header extension of " + std::to_string(words) +
                                                      " words runs past the packet");
    h.extension = d.subspan(pos, words * 4);
    pos += words * 4;
  }
  v.header_size = pos;
  size_t end = d.size();
  if (padding) {
    const size_t count = d.back();
    if (count == 0 || count > end - pos) return make_error("RTP padding count " + std::to_string(count) +
                                                           " is zero or larger than the payload");
    v.padding_size = count;
    end -= count;
  }
  v.payload = d.subspan(pos, end - pos);
  return v;
}

void write_fixed_header(std::span<uint8_t, kFixedHeaderSize> out, bool marker, uint8_t payload_type,
                        uint16_t sequence, uint32_t timestamp, uint32_t ssrc) {
  out[0] = 0x80;
  out[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (payload_type & 0x7F));
  store_be16(&out[2], sequence);
  store_be32(&out[4], timestamp);
  store_be32(&out[8], ssrc);
}

Result<size_t> write_rtp_header(const RtpHeader& h, std::span<uint8_t> out) {
  if (h.csrc_count > 15) return make_error("RTP allows at most 15 CSRCs");
  if (h.has_extension && (h.extension.size() % 4 != 0 || h.extension.size() / 4 > 0xFFFF))
    return make_error("RTP header extension must be whole 32-bit words, at most 65535");
  const size_t size = kFixedHeaderSize + 4u * h.csrc_count + (h.has_extension ? 4 + h.extension.size() : 0);
  if (out.size() < size) return make_error("buffer of " + std::to_string(out.size()) + " bytes is too small for a " +
                                           std::to_string(size) + "-byte RTP header");
  write_fixed_header(out.first<kFixedHeaderSize>(), h.marker, h.payload_type, h.sequence, h.timestamp, h.ssrc);
  out[0] = static_cast<uint8_t>(out[0] | (h.has_extension ? 0x10 : 0) | h.csrc_count);
  size_t pos = kFixedHeaderSize;
  for (size_t i = 0; i < h.csrc_count; ++i, pos += 4) store_be32(&out[pos], h.csrcs[i]);
  if (h.has_extension) {
    store_be16(&out[pos], h.extension_profile);
    store_be16(&out[pos + 2], static_cast<uint16_t>(h.extension.size() / 4));
    if (!h.extension.empty()) std::memcpy(&out[pos + 4], h.extension.data(), h.extension.size());
    pos += 4 + h.extension.size();
  }
  return pos;
}

}  // namespace anchorcast::rtp
