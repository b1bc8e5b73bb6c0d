#include "relay/protocol/rtmp/chunk_writer.hpp"

#include <gtest/gtest.h>

#include "chunk_bytes.hpp"
#include "relay/protocol/rtmp/chunk_reader.hpp"
#include "relay/protocol/rtmp/messages.hpp"

namespace anchorcast::rtmp {
namespace {

// Flattens pieces the way the session hands them to uv_write.
std::vector<uint8_t> flatten(const std::vector<uint8_t>& headers, const std::vector<ChunkPiece>& pieces,
                             std::span<const std::span<const uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : pieces) {
    const uint8_t* base = p.part == ChunkPiece::kHeader ? headers.data() : parts[p.part].data();
    out.insert(out.end(), base + p.offset, base + p.offset + p.length);
  }
  return out;
}

TEST(ChunkWriter, FramesSmallMessageAsOneFmt0Chunk) {
  ChunkWriter writer;
  std::vector<uint8_t> out;
  writer.append(ChunkHeaderFields{3, 20, 1, 1000}, test::pattern(5), out);
  std::vector<uint8_t> expected;
  test::fmt0(expected, 3, 1000, 5, 20, 1);
  test::bytes(expected, 5);
  EXPECT_EQ(out, expected);
}

TEST(ChunkWriter, ContinuesWithFmt3AndRepeatsExtendedTimestamp) {
  ChunkWriter writer(128);
  std::vector<uint8_t> out;
  auto payload = test::pattern(300);
  writer.append(ChunkHeaderFields{6, 9, 1, 0x12345678}, payload, out);
  std::vector<uint8_t> expected;
  test::fmt0(expected, 6, 0xFFFFFF, 300, 9, 1, 0x12345678);
  expected.insert(expected.end(), payload.begin(), payload.begin() + 128);
  test::fmt3(expected, 6, 0x12345678);
  expected.insert(expected.end(), payload.begin() + 128, payload.begin() + 256);
  test::fmt3(expected, 6, 0x12345678);
  expected.insert(expected.end(), payload.begin() + 256, payload.end());
  EXPECT_EQ(out, expected);
}

TEST(ChunkWriter, PiecesReferenceThePayloadWithoutCopying) {
  ChunkWriter writer(4096);
  std::vector<uint8_t> prefix = {0x17, 1, 0, 0, 0};
  auto body = test::pattern(10000);
  std::span<const uint8_t> parts[2] = {prefix, body};
  std::vector<uint8_t> headers;
  std::vector<ChunkPiece> pieces;
  writer.frame(ChunkHeaderFields{6, 9, 1, 40}, parts, headers, pieces);
  // 10005 bytes at 4096: 3 chunks, 12 header bytes + 2 one-byte continuations.
  EXPECT_EQ(headers.size(), 14u);
  size_t from_body = 0;
  for (const auto& p : pieces) {
    if (p.part == 1) {
      from_body += p.length;
      EXPECT_LE(p.offset + p.length, body.size());
    }
  }
  EXPECT_EQ(from_body, body.size());

  ChunkReader reader;
  std::vector<Message> msgs;
  std::vector<uint8_t> in;
  ChunkWriter(128).append(make_set_chunk_size(4096), in);
  auto framed = flatten(headers, pieces, parts);
  in.insert(in.end(), framed.begin(), framed.end());
  ASSERT_TRUE(reader.feed(in, msgs).ok());
  ASSERT_EQ(msgs.size(), 2u);
  std::vector<uint8_t> whole = prefix;
  whole.insert(whole.end(), body.begin(), body.end());
  EXPECT_EQ(msgs[1].payload, whole);
  EXPECT_EQ(msgs[1].timestamp, 40u);
}

TEST(ChunkWriter, BatchesSeveralMessagesIntoOneHeaderBuffer) {
  ChunkWriter writer(128);
  auto a = test::pattern(200, 1);
  auto b = test::pattern(50, 2);
  std::vector<uint8_t> headers;
  std::vector<ChunkPiece> pieces_a, pieces_b;
  std::span<const uint8_t> parts_a[1] = {a};
  std::span<const uint8_t> parts_b[1] = {b};
  writer.frame(ChunkHeaderFields{6, 9, 1, 0}, parts_a, headers, pieces_a);
  size_t after_a = headers.size();
  writer.frame(ChunkHeaderFields{4, 8, 1, 0}, parts_b, headers, pieces_b);
  EXPECT_GT(headers.size(), after_a);
  EXPECT_GE(pieces_b.front().offset, after_a);  // b's header follows a's in the buffer

  std::vector<uint8_t> in = flatten(headers, pieces_a, parts_a);
  auto fb = flatten(headers, pieces_b, parts_b);
  in.insert(in.end(), fb.begin(), fb.end());
  ChunkReader reader;
  std::vector<Message> msgs;
  ASSERT_TRUE(reader.feed(in, msgs).ok());
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].payload, a);
  EXPECT_EQ(msgs[1].payload, b);
}

TEST(ChunkWriter, RoundTripsThroughTheReaderAcrossChunkSizes) {
  const uint32_t sizes[] = {1, 2, 127, 128, 129, 4096, 65536, 16 * 1024 * 1024};
  const size_t lengths[] = {0, 1, 127, 128, 129, 5000, 100000};
  const uint32_t timestamps[] = {0, 1000, 0xFFFFFE, 0xFFFFFF, 0x12345678, 0xFFFFFFFF};
  const uint32_t csids[] = {3, 63, 64, 319, 320, 65599};
  for (uint32_t chunk_size : sizes) {
    ChunkWriter writer(128);
    std::vector<uint8_t> in;
    writer.append(make_set_chunk_size(chunk_size), in);
    writer.set_chunk_size(chunk_size);
    std::vector<Message> sent;
    int i = 0;
    for (size_t len : lengths) {
      Message m;
      m.type_id = static_cast<uint8_t>(len % 2 ? 9 : 8);
      m.stream_id = 1;
      m.timestamp = timestamps[i % 6];
      m.csid = csids[i % 6];
      m.payload = test::pattern(len, static_cast<uint8_t>(i));
      writer.append(m, in);
      sent.push_back(std::move(m));
      ++i;
    }
    ChunkReader reader;
    std::vector<Message> got;
    Status s = reader.feed(in, got);
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(got.size(), sent.size() + 1) << chunk_size;
    for (size_t k = 0; k < sent.size(); ++k) {
      EXPECT_EQ(got[k + 1].type_id, sent[k].type_id);
      EXPECT_EQ(got[k + 1].timestamp, sent[k].timestamp) << chunk_size << " " << k;
      EXPECT_EQ(got[k + 1].csid, sent[k].csid);
      EXPECT_EQ(got[k + 1].stream_id, sent[k].stream_id);
      EXPECT_EQ(got[k + 1].payload, sent[k].payload);
    }
  }
}

}  // namespace
}  // namespace anchorcast::rtmp
