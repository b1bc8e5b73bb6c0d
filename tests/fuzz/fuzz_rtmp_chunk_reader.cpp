// libFuzzer: the RTMP chunk reader on arbitrary bytes. Beyond "no crash": feeding the
// same input in pieces must give the same messages and the same verdict, and every
// message must respect the limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/rtmp/chunk_reader.hpp"

using anchorcast::rtmp::ChunkReader;
using anchorcast::rtmp::ChunkReaderLimits;
using anchorcast::rtmp::Message;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Small limits so the fuzzer reaches them without megabytes of input.
  ChunkReaderLimits limits;
  limits.max_chunk_size = 1 << 16;
  limits.max_message_length = 1 << 16;
  limits.max_buffered_bytes = 1 << 18;
  limits.max_partial_messages = 8;
  limits.max_chunk_streams = 16;
  size_t step = 1 + data[0] % 7;  // first byte picks the split size
  std::span<const uint8_t> in(data + 1, size - 1);

  ChunkReader whole(limits);
  std::vector<Message> a;
  bool ok_whole = whole.feed(in, a).ok();

  ChunkReader pieces(limits);
  std::vector<Message> b;
  bool ok_pieces = true;
  for (size_t i = 0; i < in.size() && ok_pieces; i += step)
    ok_pieces = pieces.feed(in.subspan(i, std::min(step, in.size() - i)), b).ok();

  if (ok_whole != ok_pieces || a.size() != b.size()) std::abort();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].payload != b[i].payload || a[i].timestamp != b[i].timestamp || a[i].csid != b[i].csid ||
        a[i].type_id != b[i].type_id || a[i].stream_id != b[i].stream_id)
      std::abort();
    if (a[i].payload.size() > limits.max_message_length) std::abort();
  }
  if (whole.buffered_bytes() > limits.max_buffered_bytes) std::abort();
  return 0;
}
