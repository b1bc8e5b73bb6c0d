#include "relay/protocol/rtp/h264_depacketizer.hpp"

#include <string>

namespace anchorcast::rtp {
namespace {

constexpr uint8_t kStapA = 24;
constexpr uint8_t kFuA = 28;
constexpr uint8_t kIdr = 5;

// RFC 6184 §5.2: 1..23 are NAL unit types; 0 and 24..31 are packetization structures.
bool sendable_nal_type(uint8_t header) {
  const uint8_t type = header & 0x1F;
  return type >= 1 && type <= 23;
}

void put_length(std::vector<uint8_t>& out, size_t at, size_t length) {
  out[at] = static_cast<uint8_t>(length >> 24);
  out[at + 1] = static_cast<uint8_t>(length >> 16);
  out[at + 2] = static_cast<uint8_t>(length >> 8);
  out[at + 3] = static_cast<uint8_t>(length);
}

}  // namespace

Status H264Depacketizer::fail(Error error) {
  // An access unit that holds nothing yet was counted at the gap before it, if any.
  if (in_progress_ && !current_.avcc.empty()) ++dropped_;
  current_.avcc.clear();
  in_progress_ = false;
  in_fragment_ = false;
  broken_ = true;
  broken_timestamp_ = pending_timestamp_;
  return error;
}

Status H264Depacketizer::append_nal(std::span<const uint8_t> nal) {
  if (nal.empty()) return make_error("empty NAL unit in an H.264 RTP payload");
  if (!sendable_nal_type(nal[0])) return make_error("NAL unit type " + std::to_string(nal[0] & 0x1F) + " inside an aggregate");
  if (current_.avcc.size() + 4 + nal.size() > kMaxAccessUnitSize)
    return make_error("H.264 access unit exceeds " + std::to_string(kMaxAccessUnitSize) + " bytes");
  const size_t at = current_.avcc.size();
  current_.avcc.resize(at + 4);
  put_length(current_.avcc, at, nal.size());
  current_.avcc.insert(current_.avcc.end(), nal.begin(), nal.end());
  if ((nal[0] & 0x1F) == kIdr) current_.keyframe = true;
  return {};
}

Result<std::optional<AccessUnit>> H264Depacketizer::push(std::span<const uint8_t> payload, uint16_t sequence,
                                                         uint32_t timestamp, bool marker) {
  const bool gap = last_sequence_ && static_cast<uint16_t>(*last_sequence_ + 1) != sequence;
  last_sequence_ = sequence;
  if (in_progress_ && (gap || timestamp != current_.timestamp)) {
    // The rest of that access unit (its marker at least) was lost; this packet may
    // start the next one.
    ++dropped_;
    in_progress_ = false;
    in_fragment_ = false;
  }
  if (broken_ && (gap || timestamp != broken_timestamp_)) broken_ = false;
  if (broken_) {
    if (marker) broken_ = false;  // the broken access unit ends here
    return std::optional<AccessUnit>{};
  }
  pending_timestamp_ = timestamp;
  if (payload.empty()) return fail(make_error("empty H.264 RTP payload")).error();
  if (!in_progress_) {
    current_.avcc.clear();
    current_.keyframe = false;
    current_.timestamp = timestamp;
    in_progress_ = true;
  }
  const uint8_t type = payload[0] & 0x1F;
  if (in_fragment_ && type != kFuA) return fail(make_error("FU-A interrupted by another packet")).error();
  if (type >= 1 && type <= 23) {
    if (auto s = append_nal(payload); !s) return fail(s.error()).error();
  } else if (type == kStapA) {
    size_t pos = 1;
    if (payload.size() < 3) return fail(make_error("STAP-A without a NAL unit")).error();
    while (pos < payload.size()) {
      if (payload.size() - pos < 2) return fail(make_error("STAP-A NAL size cut off")).error();
      const size_t size = size_t{payload[pos]} << 8 | payload[pos + 1];
      pos += 2;
      if (size == 0 || size > payload.size() - pos)
        return fail(make_error("STAP-A NAL unit of " + std::to_string(size) + " bytes runs past the payload")).error();
      if (auto s = append_nal(payload.subspan(pos, size)); !s) return fail(s.error()).error();
      pos += size;
    }
  } else if (type == kFuA) {
    if (payload.size() < 3) return fail(make_error("FU-A shorter than 3 bytes")).error();
    const bool start = payload[1] & 0x80;
    const bool end = payload[1] & 0x40;
    const std::span<const uint8_t> data = payload.subspan(2);
    if (start) {
      if (in_fragment_) return fail(make_error("FU-A start inside an open fragment")).error();
      const uint8_t header = static_cast<uint8_t>((payload[0] & 0xE0) | (payload[1] & 0x1F));
      if (!sendable_nal_type(header)) return fail(make_error("FU-A carries NAL unit type " + std::to_string(header & 0x1F))).error();
      if (current_.avcc.size() + 5 + data.size() > kMaxAccessUnitSize)
        return fail(make_error("H.264 access unit exceeds the size limit")).error();
      fragment_length_at_ = current_.avcc.size();
      current_.avcc.resize(fragment_length_at_ + 4);
      current_.avcc.push_back(header);
      if ((header & 0x1F) == kIdr) current_.keyframe = true;
      in_fragment_ = true;
    } else if (!in_fragment_) {
      return fail(make_error("FU-A continuation without a start")).error();
    }
    if (current_.avcc.size() + data.size() > kMaxAccessUnitSize)
      return fail(make_error("H.264 access unit exceeds the size limit")).error();
    current_.avcc.insert(current_.avcc.end(), data.begin(), data.end());
    if (end) {
      put_length(current_.avcc, fragment_length_at_, current_.avcc.size() - fragment_length_at_ - 4);
      in_fragment_ = false;
    }
  } else {
    return fail(make_error("H.264 RTP payload type " + std::to_string(type) + " is not supported in mode 1")).error();
  }
  if (!marker) return std::optional<AccessUnit>{};
  if (in_fragment_) return fail(make_error("marker bit inside an open FU-A")).error();
  in_progress_ = false;
  AccessUnit done;
  done.timestamp = current_.timestamp;
  done.keyframe = current_.keyframe;
  done.avcc.swap(current_.avcc);
  return std::optional<AccessUnit>{std::move(done)};
}

}  // namespace anchorcast::rtp
