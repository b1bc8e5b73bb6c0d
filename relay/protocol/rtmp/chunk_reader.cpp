#include "relay/protocol/rtmp/chunk_reader.hpp"

#include <algorithm>

#include "relay/protocol/bits/byte_order.hpp"

namespace anchorcast::rtmp {

namespace {

using bits::load_be24;
using bits::load_be32;
using bits::load_le32;

// 5.3.1.2: message header sizes of fmt 0, 1, 2, 3.
constexpr size_t kMessageHeaderSize[4] = {11, 7, 3, 0};
constexpr uint32_t kExtendedMarker = 0xFFFFFF;  // 5.3.1.3

size_t basic_header_size(uint8_t first) {
  // 5.3.1.1: csid 0 in the low 6 bits means a 2-byte form, 1 a 3-byte form.
  uint8_t low = first & 0x3F;
  return low == 0 ? 2 : low == 1 ? 3 : 1;
}

uint32_t basic_header_csid(const uint8_t* p) {
  uint8_t low = p[0] & 0x3F;
  if (low == 0) return uint32_t{p[1]} + 64;
  if (low == 1) return uint32_t{p[2]} * 256 + p[1] + 64;
  return low;
}

}  // namespace

ChunkReader::ChunkReader(ChunkReaderLimits limits) : limits_(limits) {
  // The default chunk size holds even when a caller's limit is absurdly small.
  chunk_size_ = std::min<uint32_t>(128, std::max<uint32_t>(1, limits_.max_chunk_size));
  streams_.reserve(8);
}

Status ChunkReader::fail(std::string message) {
  failed_ = true;
  error_ = "rtmp chunk stream: " + std::move(message);
  return make_error(error_);
}

ChunkReader::ChunkStream* ChunkReader::find(uint32_t csid) {
  if (last_ < streams_.size() && streams_[last_].csid == csid) return &streams_[last_];
  for (size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].csid == csid) {
      last_ = i;
      return &streams_[i];
    }
  }
  return nullptr;
}

const ChunkReader::ChunkStream* ChunkReader::find(uint32_t csid) const {
  for (const auto& cs : streams_)
    if (cs.csid == csid) return &cs;
  return nullptr;
}

size_t ChunkReader::header_size(const uint8_t* p, size_t have) const {
  if (have < 1) return 1;
  size_t basic = basic_header_size(p[0]);
  if (have < basic) return basic;
  unsigned fmt = p[0] >> 6;
  if (fmt == 3) {
    // 5.3.1.3: a fmt 3 chunk repeats the extended timestamp when the chunk stream's
    // last fmt 0/1/2 header had one (ffmpeg, OBS and librtmp all send it).
    const ChunkStream* cs = find(basic_header_csid(p));
    return basic + (cs && cs->extended ? 4 : 0);
  }
  size_t fixed = basic + kMessageHeaderSize[fmt];
  if (have < basic + 3) return fixed;  // the timestamp field comes first in all three
  return fixed + (load_be24(p + basic) == kExtendedMarker ? 4 : 0);
}

Status ChunkReader::process_header(const uint8_t* p) {
  unsigned fmt = p[0] >> 6;
  uint32_t csid = basic_header_csid(p);
  const uint8_t* h = p + basic_header_size(p[0]);

  ChunkStream* cs = find(csid);
  if (!cs) {
    // 5.3.1.2.1: the first chunk of a chunk stream has nothing to inherit from.
    if (fmt != 0)
      return fail("chunk stream " + std::to_string(csid) + " starts with a fmt " + std::to_string(fmt) +
                  " header; its first chunk must be fmt 0");
    if (streams_.size() >= limits_.max_chunk_streams)
      return fail("more than " + std::to_string(limits_.max_chunk_streams) + " chunk streams");
    // Growing the vector moves the elements; current_ is set after this, and no other
    // pointer into streams_ lives across calls.
    streams_.push_back(ChunkStream{});
    last_ = streams_.size() - 1;
    cs = &streams_.back();
    cs->csid = csid;
  }
  if (cs->in_progress && fmt != 3)
    return fail("chunk stream " + std::to_string(csid) + ": fmt " + std::to_string(fmt) +
                " header in the middle of a message (" + std::to_string(cs->payload.size()) + " of " +
                std::to_string(cs->length) + " bytes received)");

  bool starts_message = !cs->in_progress;
  if (fmt < 3) {
    uint32_t field = load_be24(h);
    bool extended = field == kExtendedMarker;
    uint32_t value = extended ? load_be32(h + kMessageHeaderSize[fmt]) : field;
    if (fmt <= 1) {
      cs->length = load_be24(h + 3);
      cs->type_id = h[6];
    }
    if (fmt == 0) {
      cs->stream_id = load_le32(h + 7);  // 5.3.1.2.1: the one little-endian field in RTMP
      cs->timestamp = value;
    } else {
      cs->timestamp += value;  // 5.3.1.2.2/3: a delta; wraps modulo 2^32 like the spec's
    }
    // A following fmt 3 chunk that starts a message repeats this delta; after fmt 0 the
    // "delta" is the absolute timestamp (5.3.1.2.4; ffmpeg and SRS read it so too).
    cs->delta = value;
    cs->extended = extended;
  } else if (starts_message) {
    uint32_t delta = cs->extended ? load_be32(h) : cs->delta;
    cs->timestamp += delta;
    cs->delta = delta;
  }
  // else: a continuation; its extended timestamp (if any) repeats the message's.

  if (starts_message) {
    if (cs->length > limits_.max_message_length)
      return fail("chunk stream " + std::to_string(csid) + ": message length " + std::to_string(cs->length) +
                  " exceeds limit " + std::to_string(limits_.max_message_length));
    if (partial_messages_ >= limits_.max_partial_messages)
      return fail("more than " + std::to_string(limits_.max_partial_messages) +
                  " chunk streams with a partial message");
    if (buffered_bytes_ + cs->length > limits_.max_buffered_bytes)
      return fail("partial messages would hold " + std::to_string(buffered_bytes_ + cs->length) +
                  " bytes, limit " + std::to_string(limits_.max_buffered_bytes));
    cs->in_progress = true;
    cs->payload.clear();
    // Declared lengths are bounded by the limits above, so reserving is safe, and the
    // copy loop below never reallocates.
    cs->payload.reserve(cs->length);
    buffered_bytes_ += cs->length;
    ++partial_messages_;
  }
  current_ = cs;
  chunk_left_ = std::min<uint32_t>(chunk_size_, cs->length - static_cast<uint32_t>(cs->payload.size()));
  return {};
}

Status ChunkReader::complete_message(ChunkStream& cs, std::vector<Message>& out) {
  cs.in_progress = false;
  --partial_messages_;
  buffered_bytes_ -= cs.length;
  Message& m = out.emplace_back();
  m.type_id = cs.type_id;
  m.stream_id = cs.stream_id;
  m.timestamp = cs.timestamp;
  m.csid = cs.csid;
  m.payload = std::move(cs.payload);
  cs.payload = {};

  if (m.type_id == 1) {  // 5.4.1 Set Chunk Size
    if (m.payload.size() < 4)
      return fail("Set Chunk Size with a " + std::to_string(m.payload.size()) + "-byte payload");
    uint32_t size = load_be32(m.payload.data());
    if (size & 0x80000000u)
      return fail("chunk size " + std::to_string(size) + " has the reserved top bit set (spec 5.4.1)");
    if (size == 0) return fail("chunk size 0");
    if (size > limits_.max_chunk_size)
      return fail("chunk size " + std::to_string(size) + " exceeds limit " + std::to_string(limits_.max_chunk_size));
    chunk_size_ = size;
  } else if (m.type_id == 2) {  // 5.4.2 Abort: drop the named chunk stream's partial message
    if (m.payload.size() < 4)
      return fail("Abort with a " + std::to_string(m.payload.size()) + "-byte payload");
    if (ChunkStream* target = find(load_be32(m.payload.data())); target && target->in_progress) {
      target->in_progress = false;
      --partial_messages_;
      buffered_bytes_ -= target->length;
      target->payload = {};
    }
  }
  return {};
}

Status ChunkReader::feed(std::span<const uint8_t> in, std::vector<Message>& out) {
  if (failed_) return make_error(error_);
  const uint8_t* p = in.data();
  const uint8_t* end = p + in.size();
  while (p < end) {
    if (!current_) {
      const uint8_t* hdr = nullptr;
      if (header_have_ == 0) {
        // Fast path: the whole header is in the input, parse it in place.
        size_t avail = static_cast<size_t>(end - p);
        size_t need = header_size(p, avail);
        while (need <= avail) {
          size_t more = header_size(p, need);
          if (more == need) break;
          need = more;
        }
        if (need <= avail) {
          hdr = p;
          p += need;
        } else {
          std::copy(p, end, header_);
          header_have_ = avail;
          p = end;
          break;
        }
      } else {
        for (;;) {
          size_t need = header_size(header_, header_have_);
          if (header_have_ >= need) break;
          size_t take = std::min(need - header_have_, static_cast<size_t>(end - p));
          std::copy(p, p + take, header_ + header_have_);
          header_have_ += take;
          p += take;
          if (p == end && header_have_ < header_size(header_, header_have_)) break;
        }
        if (header_have_ < header_size(header_, header_have_)) break;  // wait for more
        hdr = header_;
        header_have_ = 0;
      }
      if (Status s = process_header(hdr); !s) return s;
    }
    ChunkStream& cs = *current_;
    size_t take = std::min<size_t>(chunk_left_, static_cast<size_t>(end - p));
    cs.payload.insert(cs.payload.end(), p, p + take);
    p += take;
    chunk_left_ -= static_cast<uint32_t>(take);
    if (chunk_left_ > 0) break;  // input exhausted mid-chunk
    current_ = nullptr;
    if (cs.payload.size() == cs.length) {
      if (Status s = complete_message(cs, out); !s) {
        bytes_consumed_ += static_cast<size_t>(p - in.data());
        return s;
      }
    }
  }
  bytes_consumed_ += static_cast<size_t>(p - in.data());
  return {};
}

}  // namespace anchorcast::rtmp
