#include "relay/protocol/rtp/h264_packetizer.hpp"

#include <algorithm>
#include <cstring>

#include "relay/protocol/h264/nal_unit.hpp"

namespace anchorcast::rtp {
namespace {

constexpr uint8_t kStapA = 24;
constexpr uint8_t kFuA = 28;

}  // namespace

H264Packetizer::H264Packetizer(H264PacketizerConfig config) : config_(config), sequence_(config.first_sequence) {
  config_.max_packet_size = std::clamp(config_.max_packet_size, kFixedHeaderSize + 3, size_t{65535});
}

void H264Packetizer::set_parameter_sets(std::span<const uint8_t> sps, std::span<const uint8_t> pps) {
  sps_.assign(sps.begin(), sps.end());
  pps_.assign(pps.begin(), pps.end());
}

Status H264Packetizer::begin(std::span<const uint8_t> avcc, int length_size, uint32_t timestamp) {
  nals_.clear();
  keyframe_ = false;
  nal_index_ = 0;
  nal_offset_ = 0;
  timestamp_ = timestamp;
  std::span<const uint8_t> au_sps;
  std::span<const uint8_t> au_pps;
  bool unsendable = false;
  auto status = h264::for_each_avcc_nal(avcc, length_size, [&](std::span<const uint8_t> nal) {
    // RFC 6184 §5.2: types 0 and 24..31 would read as packetization structures.
    const uint8_t type = nal[0] & 0x1F;
    if (type == 0 || type >= 24) {
      unsendable = true;
      return;
    }
    switch (h264::nal_type(nal[0])) {
      case h264::NalType::aud:
      case h264::NalType::filler:
        return;
      case h264::NalType::sps:
        if (au_sps.empty()) au_sps = nal;
        return;
      case h264::NalType::pps:
        if (au_pps.empty()) au_pps = nal;
        return;
      case h264::NalType::idr:
        keyframe_ = true;
        break;
      default:
        break;
    }
    nals_.push_back(nal);
  });
  if (!status || unsendable) {
    nals_.clear();
    return status ? Status(make_error("access unit holds a NAL unit of type 0 or 24..31, which RTP cannot carry"))
                  : status;
  }
  // A keyframe without a pair of its own gets the configured pair (a lone SPS or PPS of
  // its own is dropped); elsewhere parameter sets go as they came, only moved first.
  if ((au_sps.empty() || au_pps.empty()) && keyframe_ && !sps_.empty() && !pps_.empty()) {
    au_sps = sps_;
    au_pps = pps_;
  }
  if (!au_pps.empty()) nals_.insert(nals_.begin(), au_pps);
  if (!au_sps.empty()) nals_.insert(nals_.begin(), au_sps);
  first_packet_ = true;
  return {};
}

size_t H264Packetizer::aggregate_count(size_t payload_size) const {
  // RFC 6184 §5.7.1: a STAP-A is one header byte, then a 16-bit size before each unit.
  size_t size = 1;
  size_t count = 0;
  for (size_t i = nal_index_; i < nals_.size() && size + 2 + nals_[i].size() <= payload_size; ++i) {
    size += 2 + nals_[i].size();
    ++count;
  }
  return count;
}

size_t H264Packetizer::write_stap_a(std::span<uint8_t> payload, size_t count) {
  // §5.7: F is set if any aggregated unit has it; NRI is the highest of them.
  uint8_t forbidden = 0;
  uint8_t nri = 0;
  size_t pos = 1;
  for (size_t i = 0; i < count; ++i) {
    const std::span<const uint8_t> nal = nals_[nal_index_++];
    forbidden |= nal[0] & 0x80;
    nri = std::max<uint8_t>(nri, nal[0] & 0x60);
    payload[pos++] = static_cast<uint8_t>(nal.size() >> 8);
    payload[pos++] = static_cast<uint8_t>(nal.size());
    std::memcpy(&payload[pos], nal.data(), nal.size());
    pos += nal.size();
  }
  payload[0] = static_cast<uint8_t>(forbidden | nri | kStapA);
  return pos;
}

size_t H264Packetizer::finish(std::span<uint8_t> out, size_t payload_size, PacketInfo& info) {
  const bool last = nal_index_ >= nals_.size();
  write_fixed_header(out.first<kFixedHeaderSize>(), last, config_.payload_type, sequence_, timestamp_, config_.ssrc);
  info.sequence = sequence_++;
  info.marker = last;
  info.keyframe_start = keyframe_ && first_packet_;
  first_packet_ = false;
  return kFixedHeaderSize + payload_size;
}

size_t H264Packetizer::next(std::span<uint8_t> out, PacketInfo& info) {
  if (out.size() < config_.max_packet_size) return 0;
  std::span<uint8_t> payload = out.subspan(kFixedHeaderSize, max_payload_size());
  if (nal_index_ >= nals_.size()) return 0;
  const std::span<const uint8_t> nal = nals_[nal_index_];
  if (nal_offset_ == 0 && nal.size() <= payload.size()) {
    // Greedy, in order; a STAP-A of one unit would only add 3 bytes.
    if (const size_t count = aggregate_count(payload.size()); count > 1)
      return finish(out, write_stap_a(payload, count), info);
    std::memcpy(payload.data(), nal.data(), nal.size());
    ++nal_index_;
    return finish(out, nal.size(), info);
  }
  // FU-A (§5.8): the NAL header byte is carried in the FU indicator and header.
  const bool start = nal_offset_ == 0;
  if (start) nal_offset_ = 1;
  const size_t chunk = std::min(nal.size() - nal_offset_, payload.size() - 2);
  const bool end = nal_offset_ + chunk == nal.size();
  payload[0] = static_cast<uint8_t>((nal[0] & 0xE0) | kFuA);
  payload[1] = static_cast<uint8_t>((start ? 0x80 : 0) | (end ? 0x40 : 0) | (nal[0] & 0x1F));
  std::memcpy(&payload[2], nal.data() + nal_offset_, chunk);
  nal_offset_ += chunk;
  if (end) {
    ++nal_index_;
    nal_offset_ = 0;
  }
  return finish(out, 2 + chunk, info);
}

}  // namespace anchorcast::rtp
