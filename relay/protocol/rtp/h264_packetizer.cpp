#include "protocol/rtp/h264_packetizer.hpp"

#include <algorithm>
#include <cstring>

#include "protocol/h264/nal_unit.hpp"

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
  au_sps_ = {};
  au_pps_ = {};
  keyframe_ = false;
  nal_index_ = 0;
  nal_offset_ = 0;
  timestamp_ = timestamp;
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
        if (au_sps_.empty()) au_sps_ = nal;
        return;
      case h264::NalType::pps:
        if (au_pps_.empty()) au_pps_ = nal;
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
    au_sps_ = au_pps_ = {};
    parameter_sets_pending_ = false;
    return status ? Status(make_error("access unit holds a NAL unit of type 0 or 24..31, which RTP cannot carry"))
                  : status;
  }
  if (au_sps_.empty() || au_pps_.empty()) {
    // Parameter sets outside a keyframe (or only one of them) go as they came.
    if (!keyframe_ || sps_.empty() || pps_.empty()) {
      if (!au_pps_.empty()) nals_.insert(nals_.begin(), au_pps_);
      if (!au_sps_.empty()) nals_.insert(nals_.begin(), au_sps_);
    }
    if (keyframe_ && !sps_.empty() && !pps_.empty()) {
      au_sps_ = sps_;
      au_pps_ = pps_;
    } else {
      au_sps_ = {};
      au_pps_ = {};
    }
  }
  parameter_sets_pending_ = !au_sps_.empty();
  first_packet_ = true;
  if (parameter_sets_pending_ && 2 + 2 + au_sps_.size() + 2 + au_pps_.size() > max_payload_size()) {
    // Too big to aggregate (RFC 6184 §5.7.1 allows it to be skipped): send them alone.
    nals_.insert(nals_.begin(), au_pps_);
    nals_.insert(nals_.begin(), au_sps_);
    parameter_sets_pending_ = false;
  }
  return {};
}

size_t H264Packetizer::write_stap_a(std::span<uint8_t> payload) const {
  // NRI of a STAP-A: the highest of the aggregated units (§5.7.1).
  const uint8_t nri = std::max(au_sps_[0] & 0x60, au_pps_[0] & 0x60);
  size_t pos = 0;
  payload[pos++] = static_cast<uint8_t>(nri | kStapA);
  for (auto nal : {au_sps_, au_pps_}) {
    payload[pos++] = static_cast<uint8_t>(nal.size() >> 8);
    payload[pos++] = static_cast<uint8_t>(nal.size());
    std::memcpy(&payload[pos], nal.data(), nal.size());
    pos += nal.size();
  }
  return pos;
}

size_t H264Packetizer::finish(std::span<uint8_t> out, size_t payload_size, PacketInfo& info) {
  const bool last = !parameter_sets_pending_ && nal_index_ >= nals_.size();
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
  if (parameter_sets_pending_) {
    const size_t size = write_stap_a(payload);
    parameter_sets_pending_ = false;
    return finish(out, size, info);
  }
  if (nal_index_ >= nals_.size()) return 0;
  const std::span<const uint8_t> nal = nals_[nal_index_];
  if (nal_offset_ == 0 && nal.size() <= payload.size()) {
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
