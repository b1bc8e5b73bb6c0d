#include "relay/protocol/mpegts/pes_assembler.hpp"

namespace anchorcast {

namespace {

enum class HeaderParse { ok, need_more, bad };

// §2.4.3.6 Table 2-21: these stream_ids carry no optional PES header (no PTS/DTS).
bool has_optional_header(uint8_t stream_id) {
  switch (stream_id) {
    case 0xBC:  // program_stream_map
    case 0xBE:  // padding_stream
    case 0xBF:  // private_stream_2
    case 0xF0:  // ECM
    case 0xF1:  // EMM
    case 0xF2:  // DSMCC_stream
    case 0xF8:  // ITU-T H.222.1 type E
    case 0xFF:  // program_stream_directory
      return false;
    default:
      return true;
  }
}

// §2.4.3.7: a 33-bit timestamp spread over 5 bytes with marker bits between its parts.
// The marker bits are not checked: muxers in the wild get them wrong, decoders ignore them.
uint64_t read_timestamp(const uint8_t* b) {
  return (uint64_t{(b[0] >> 1) & 0x07u} << 30) | (uint64_t{b[1]} << 22) |
         (static_cast<uint64_t>(b[2] >> 1) << 15) | (uint64_t{b[3]} << 7) | (uint64_t{b[4]} >> 1);
}

}  // namespace

void PesAssembler::push(std::span<const uint8_t> payload, bool unit_start, uint64_t packet_end_offset,
                        std::vector<PesPacket>& done) {
  if (unit_start) {
    // §2.4.3.3: payload_unit_start_indicator 1 = a PES packet starts in this TS packet,
    // so the previous one (unbounded, PES_packet_length 0) is complete.
    if (state_ == State::collecting) finish(done);
    state_ = State::collecting;
    buffer_.clear();
    header_parsed_ = false;
    header_size_ = 0;
    declared_size_ = 0;
    current_ = PesPacket{};
  } else if (state_ == State::idle) {
    return;  // the middle of a PES whose start we did not see (or dropped): skip to the next
  }

  if (payload.size() > max_bytes_ || buffer_.size() > max_bytes_ - payload.size()) {
    ++stats_.oversized;
    drop(false);
    return;
  }
  buffer_.insert(buffer_.end(), payload.begin(), payload.end());
  last_byte_offset_ = packet_end_offset;

  if (!header_parsed_ && !parse_header()) return;
  if (header_parsed_ && declared_size_ != 0 && buffer_.size() >= declared_size_) {
    // Bytes past PES_packet_length in the same TS packet are not part of this PES
    // (a conforming muxer pads with adaptation-field stuffing instead): ignore them.
    buffer_.resize(declared_size_);
    finish(done);
  }
}

bool PesAssembler::parse_header() {
  if (buffer_.size() < 6) return false;  // need more
  const uint8_t* b = buffer_.data();
  // §2.4.3.6: packet_start_code_prefix 0x000001.
  if (b[0] != 0 || b[1] != 0 || b[2] != 1) {
    drop(true);
    return false;
  }
  current_.stream_id = b[3];
  const size_t pes_packet_length = (size_t{b[4]} << 8) | b[5];
  declared_size_ = pes_packet_length == 0 ? 0 : 6 + pes_packet_length;
  if (!has_optional_header(current_.stream_id)) {
    header_size_ = 6;
  } else {
    if (buffer_.size() < 9) return false;
    if ((b[6] & 0xC0) != 0x80) {  // the '10' bits before PES_scrambling_control
      drop(true);
      return false;
    }
    const unsigned pts_dts_flags = b[7] >> 6;
    const size_t header_data_length = b[8];
    header_size_ = 9 + header_data_length;
    if (buffer_.size() < header_size_) return false;
    if (pts_dts_flags == 1) {  // '01' is forbidden
      drop(true);
      return false;
    }
    const size_t needed = pts_dts_flags == 3 ? 10 : pts_dts_flags == 2 ? 5 : 0;
    if (header_data_length < needed) {
      drop(true);
      return false;
    }
    if (pts_dts_flags & 2) {
      current_.has_pts = true;
      current_.pts = read_timestamp(b + 9);
      current_.dts = current_.pts;
    }
    if (pts_dts_flags == 3) {
      current_.has_dts = true;
      current_.dts = read_timestamp(b + 14);
    }
  }
  if (declared_size_ != 0 && declared_size_ < header_size_) {
    drop(true);
    return false;
  }
  header_parsed_ = true;
  return true;
}

void PesAssembler::finish(std::vector<PesPacket>& done) {
  if (!header_parsed_) {
    drop(true);  // ended before its header was complete
    return;
  }
  if (declared_size_ != 0 && buffer_.size() < declared_size_) {
    drop(false);  // shorter than PES_packet_length said: a packet of it went missing
    return;
  }
  state_ = State::idle;
  if (buffer_.size() <= header_size_) return;  // nothing in it
  current_.payload.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(header_size_), buffer_.end());
  current_.last_byte_offset = last_byte_offset_;
  ++stats_.completed;
  done.push_back(std::move(current_));
  current_ = PesPacket{};
}

void PesAssembler::flush(std::vector<PesPacket>& done) {
  if (state_ == State::collecting) finish(done);
}

void PesAssembler::abort() {
  if (state_ == State::collecting) drop(false);
}

void PesAssembler::drop(bool header_error) {
  ++stats_.dropped;
  if (header_error) ++stats_.header_errors;
  state_ = State::idle;
  buffer_.clear();
  header_parsed_ = false;
}

}  // namespace anchorcast
