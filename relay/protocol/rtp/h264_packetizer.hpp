// H.264 over RTP, packetization mode 1 (RFC 6184 §6.3). An AVCC access unit is sent in
// order, its parameter sets first (SPS+PPS before every keyframe). Consecutive NAL units
// that fit in one packet together go as one STAP-A (§5.7.1), greedily: an encoder with
// sliced threads (x264 zerolatency) emits several small slices per frame, and each
// packet costs a datagram and an SRTP pass per viewer. A NAL unit that fits but cannot
// be combined with the next goes as a single NAL unit packet (§5.6); one that does not
// fit goes as FU-A fragments (§5.8), all of full size except the last, so a run of them
// can go out as one UDP GSO send. The marker bit is set on the last packet of the
// access unit (§5.1). AUDs and filler data are not sent.
//
// Writes into the caller's buffers: begin() an access unit, then next() writes one
// whole RTP packet (header + payload) per call until it returns 0. Nothing is
// allocated per packet once the NAL list has grown to the largest access unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/rtp/rtp_header.hpp"

namespace anchorcast::rtp {

inline constexpr size_t kDefaultMaxPacketSize = 1200;  // RTP header included

struct H264PacketizerConfig {
  uint8_t payload_type = 102;
  uint32_t ssrc = 0;
  uint16_t first_sequence = 0;
  size_t max_packet_size = kDefaultMaxPacketSize;  // >= 12 + 3 (a FU-A with one byte)
};

struct PacketInfo {
  uint16_t sequence = 0;
  bool marker = false;
  bool keyframe_start = false;  // the first packet of a keyframe access unit
};

class H264Packetizer {
 public:
  explicit H264Packetizer(H264PacketizerConfig config);

  // The SPS and PPS (whole NAL units) sent before keyframes whose access unit carries
  // none of its own. Copied.
  void set_parameter_sets(std::span<const uint8_t> sps, std::span<const uint8_t> pps);

  // Starts an access unit: `avcc` stays borrowed until next() returns 0. A keyframe is
  // an access unit with an IDR slice; its parameter sets go first (the access unit's own
  // SPS/PPS when it has both, else the configured ones), aggregated with whatever
  // follows them that still fits.
  Status begin(std::span<const uint8_t> avcc, int length_size, uint32_t timestamp);

  // Writes the next packet into `out` (at least max_packet_size bytes) and returns its
  // size; 0 when the access unit is done (or `out` is too small).
  size_t next(std::span<uint8_t> out, PacketInfo& info);

  uint16_t next_sequence() const { return sequence_; }
  bool keyframe() const { return keyframe_; }
  size_t max_payload_size() const { return config_.max_packet_size - kFixedHeaderSize; }

 private:
  size_t aggregate_count(size_t payload_size) const;
  size_t write_stap_a(std::span<uint8_t> payload, size_t count);
  size_t finish(std::span<uint8_t> out, size_t payload_size, PacketInfo& info);

  H264PacketizerConfig config_;
  uint16_t sequence_;
  std::vector<uint8_t> sps_;
  std::vector<uint8_t> pps_;

  // The access unit in progress.
  std::vector<std::span<const uint8_t>> nals_;  // in sending order, parameter sets first
  uint32_t timestamp_ = 0;
  bool keyframe_ = false;
  bool first_packet_ = false;
  size_t nal_index_ = 0;
  size_t nal_offset_ = 0;  // bytes of nals_[nal_index_] already sent (FU-A)
};

}  // namespace anchorcast::rtp
