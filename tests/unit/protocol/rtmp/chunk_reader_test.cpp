#include "relay/protocol/rtmp/chunk_reader.hpp"

#include <gtest/gtest.h>

#include "chunk_bytes.hpp"

namespace anchorcast::rtmp {
namespace {

using namespace test;

std::vector<Message> read_all(std::span<const uint8_t> in, ChunkReaderLimits limits = {}) {
  ChunkReader reader(limits);
  std::vector<Message> out;
  Status s = reader.feed(in, out);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return out;
}

std::string read_error(std::span<const uint8_t> in, ChunkReaderLimits limits = {}) {
  ChunkReader reader(limits);
  std::vector<Message> out;
  Status s = reader.feed(in, out);
  return s.ok() ? "" : s.error().message;
}

TEST(ChunkReader, ReadsSingleChunkFmt0Message) {
  std::vector<uint8_t> in;
  fmt0(in, 3, 1000, 5, 20, 7);
  bytes(in, 5, 'a');
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type_id, 20);
  EXPECT_EQ(msgs[0].stream_id, 7u);  // little-endian on the wire
  EXPECT_EQ(msgs[0].timestamp, 1000u);
  EXPECT_EQ(msgs[0].csid, 3u);
  EXPECT_EQ(msgs[0].payload, pattern(5, 'a'));
}

// Spec 5.3.2.1, example 1: one audio message then three with fmt 2 / fmt 3 headers.
TEST(ChunkReader, ReadsAllFourHeaderTypes) {
  std::vector<uint8_t> in;
  fmt0(in, 4, 1000, 32, 8, 1);
  bytes(in, 32, 0);
  fmt1(in, 4, 33, 16, 9);  // new length and type, delta 33
  bytes(in, 16, 1);
  fmt2(in, 4, 20);  // same length and type, delta 20
  bytes(in, 16, 2);
  fmt3(in, 4);  // everything repeated, delta 20 again
  bytes(in, 16, 3);
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0].timestamp, 1000u);
  EXPECT_EQ(msgs[1].timestamp, 1033u);
  EXPECT_EQ(msgs[2].timestamp, 1053u);
  EXPECT_EQ(msgs[3].timestamp, 1073u);
  EXPECT_EQ(msgs[0].type_id, 8);
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(msgs[i].type_id, 9);
    EXPECT_EQ(msgs[i].stream_id, 1u);
    EXPECT_EQ(msgs[i].payload, pattern(16, static_cast<uint8_t>(i)));
  }
}

// 5.3.1.2.4: a fmt 3 chunk right after fmt 0 repeats the fmt 0 "delta", i.e. the
// absolute timestamp (ffmpeg and SRS agree).
TEST(ChunkReader, Fmt3AfterFmt0RepeatsTheTimestampAsDelta) {
  std::vector<uint8_t> in;
  fmt0(in, 4, 40, 2, 8, 1);
  bytes(in, 2);
  fmt3(in, 4);
  bytes(in, 2);
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].timestamp, 80u);
}

TEST(ChunkReader, DecodesEveryBasicHeaderForm) {
  for (uint32_t csid : {2u, 3u, 63u, 64u, 319u, 320u, 1000u, 65599u}) {
    std::vector<uint8_t> in;
    fmt0(in, csid, 0, 3, 9, 1);
    bytes(in, 3);
    auto msgs = read_all(in);
    ASSERT_EQ(msgs.size(), 1u) << csid;
    EXPECT_EQ(msgs[0].csid, csid);
  }
}

// 5.3.2.2, example 2: a 307-byte message at chunk size 128 takes three chunks.
TEST(ChunkReader, ReassemblesMessageSplitAcrossChunks) {
  std::vector<uint8_t> in;
  auto payload = pattern(307);
  fmt0(in, 6, 1000, 307, 9, 1);
  in.insert(in.end(), payload.begin(), payload.begin() + 128);
  fmt3(in, 6);
  in.insert(in.end(), payload.begin() + 128, payload.begin() + 256);
  fmt3(in, 6);
  in.insert(in.end(), payload.begin() + 256, payload.end());
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].payload, payload);
  EXPECT_EQ(msgs[0].timestamp, 1000u);
}

TEST(ChunkReader, ReassemblesMessageAfterChunkSizeChangeBetweenMessages) {
  std::vector<uint8_t> in;
  set_chunk_size(in, 4096);
  auto payload = pattern(5000, 7);
  fmt0(in, 6, 0, 5000, 9, 1);
  in.insert(in.end(), payload.begin(), payload.begin() + 4096);
  fmt3(in, 6);
  in.insert(in.end(), payload.begin() + 4096, payload.end());
  ChunkReader reader;
  std::vector<Message> msgs;
  ASSERT_TRUE(reader.feed(in, msgs).ok());
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].type_id, 1);  // Set Chunk Size is still handed to the caller
  EXPECT_EQ(msgs[1].payload, payload);
  EXPECT_EQ(reader.chunk_size(), 4096u);
}

// The chunk size applies to chunks after the Set Chunk Size message, even when they
// continue a message begun under the old size on another chunk stream.
TEST(ChunkReader, ReassemblesMessageSplitAcrossChunkSizeChange) {
  std::vector<uint8_t> in;
  auto payload = pattern(1000, 3);
  fmt0(in, 6, 5, 1000, 9, 1);
  in.insert(in.end(), payload.begin(), payload.begin() + 128);
  set_chunk_size(in, 500);
  fmt3(in, 6);
  in.insert(in.end(), payload.begin() + 128, payload.begin() + 628);
  fmt3(in, 6);
  in.insert(in.end(), payload.begin() + 628, payload.end());
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].payload, payload);
  EXPECT_EQ(msgs[1].timestamp, 5u);
}

// 5.3.1.3: timestamps >= 0xFFFFFF go in the extended field, and fmt 3 chunks of the
// same chunk stream repeat it (ffmpeg/OBS).
TEST(ChunkReader, ReadsExtendedTimestampWithFmt3Continuations) {
  const uint32_t ts = 0x12345678;
  std::vector<uint8_t> in;
  auto payload = pattern(300);
  fmt0(in, 6, 0xFFFFFF, 300, 9, 1, ts);
  in.insert(in.end(), payload.begin(), payload.begin() + 128);
  fmt3(in, 6, ts);
  in.insert(in.end(), payload.begin() + 128, payload.begin() + 256);
  fmt3(in, 6, ts);
  in.insert(in.end(), payload.begin() + 256, payload.end());
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].timestamp, ts);
  EXPECT_EQ(msgs[0].payload, payload);
}

TEST(ChunkReader, ReadsExtendedTimestampExactlyAtTheMarker) {
  std::vector<uint8_t> in;
  fmt0(in, 6, 0xFFFFFF, 1, 9, 1, 0xFFFFFF);
  bytes(in, 1);
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].timestamp, 0xFFFFFFu);
}

TEST(ChunkReader, ReadsExtendedDeltasInFmt1Fmt2AndFmt3NewMessages) {
  std::vector<uint8_t> in;
  fmt0(in, 6, 100, 1, 9, 1);
  bytes(in, 1);
  fmt1(in, 6, 0xFFFFFF, 1, 9, 0x1000000);
  bytes(in, 1);
  fmt2(in, 6, 0xFFFFFF, 0x1000001);
  bytes(in, 1);
  fmt3(in, 6, 0x1000002);  // a new message: the extended field is its delta
  bytes(in, 1);
  fmt2(in, 6, 10);  // back to a small delta: fmt 3 no longer carries 4 bytes
  bytes(in, 1);
  fmt3(in, 6);
  bytes(in, 1);
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 6u);
  EXPECT_EQ(msgs[0].timestamp, 100u);
  EXPECT_EQ(msgs[1].timestamp, 100u + 0x1000000u);
  EXPECT_EQ(msgs[2].timestamp, 100u + 0x1000000u + 0x1000001u);
  EXPECT_EQ(msgs[3].timestamp, 100u + 0x1000000u + 0x1000001u + 0x1000002u);
  EXPECT_EQ(msgs[4].timestamp, msgs[3].timestamp + 10);
  EXPECT_EQ(msgs[5].timestamp, msgs[4].timestamp + 10);
}

TEST(ChunkReader, ReassemblesInterleavedChunkStreams) {
  std::vector<uint8_t> in;
  auto video = pattern(300, 1);
  auto audio = pattern(200, 2);
  fmt0(in, 6, 0, 300, 9, 1);
  in.insert(in.end(), video.begin(), video.begin() + 128);
  fmt0(in, 4, 0, 200, 8, 1);
  in.insert(in.end(), audio.begin(), audio.begin() + 128);
  fmt3(in, 6);
  in.insert(in.end(), video.begin() + 128, video.begin() + 256);
  fmt3(in, 4);
  in.insert(in.end(), audio.begin() + 128, audio.end());
  fmt3(in, 6);
  in.insert(in.end(), video.begin() + 256, video.end());
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].type_id, 8);
  EXPECT_EQ(msgs[0].payload, audio);
  EXPECT_EQ(msgs[1].type_id, 9);
  EXPECT_EQ(msgs[1].payload, video);
}

TEST(ChunkReader, AbortDropsThePartialMessage) {
  std::vector<uint8_t> in;
  fmt0(in, 6, 0, 300, 9, 1);
  bytes(in, 128);
  fmt0(in, 2, 0, 4, 2, 0);  // 5.4.2 Abort chunk stream 6
  bits::append_be32(in, 6);
  fmt0(in, 6, 40, 3, 9, 1);  // a fresh message, fmt 0 allowed again
  bytes(in, 3, 9);
  ChunkReader reader;
  std::vector<Message> msgs;
  ASSERT_TRUE(reader.feed(in, msgs).ok());
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].type_id, 2);
  EXPECT_EQ(msgs[1].payload, pattern(3, 9));
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(ChunkReader, DeliversZeroLengthMessages) {
  std::vector<uint8_t> in;
  fmt0(in, 3, 0, 0, 20, 0);
  fmt3(in, 3);
  auto msgs = read_all(in);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_TRUE(msgs[0].payload.empty());
}

std::vector<uint8_t> realistic_stream() {
  std::vector<uint8_t> in;
  set_chunk_size(in, 4096);
  uint32_t ts = 0xFFFFF0;  // crosses into extended timestamps on the way
  for (int i = 0; i < 20; ++i) {
    size_t vlen = 3000 + 1500 * static_cast<size_t>(i % 5);
    auto video = pattern(vlen, static_cast<uint8_t>(i));
    bool ext = ts >= 0xFFFFFF;
    fmt0(in, 6, ext ? 0xFFFFFF : ts, static_cast<uint32_t>(vlen), 9, 1, ext ? int64_t{ts} : -1);
    size_t off = std::min<size_t>(4096, vlen);
    in.insert(in.end(), video.begin(), video.begin() + static_cast<std::ptrdiff_t>(off));
    fmt0(in, 4, ext ? 0xFFFFFF : ts, 300, 8, 1, ext ? int64_t{ts} : -1);
    bytes(in, 300, static_cast<uint8_t>(i));
    while (off < vlen) {
      fmt3(in, 6, ext ? int64_t{ts} : -1);
      size_t n = std::min<size_t>(4096, vlen - off);
      in.insert(in.end(), video.begin() + static_cast<std::ptrdiff_t>(off),
                video.begin() + static_cast<std::ptrdiff_t>(off + n));
      off += n;
    }
    ts += 7;
  }
  return in;
}

TEST(ChunkReader, ByteAtATimeFeedingEqualsOneShotFeeding) {
  auto in = realistic_stream();
  auto one_shot = read_all(in);
  ASSERT_EQ(one_shot.size(), 41u);

  for (size_t step : {size_t{1}, size_t{3}, size_t{17}, size_t{4097}}) {
    ChunkReader reader;
    std::vector<Message> msgs;
    for (size_t i = 0; i < in.size(); i += step) {
      size_t n = std::min(step, in.size() - i);
      ASSERT_TRUE(reader.feed(std::span(in).subspan(i, n), msgs).ok());
    }
    ASSERT_EQ(msgs.size(), one_shot.size()) << step;
    for (size_t i = 0; i < msgs.size(); ++i) {
      EXPECT_EQ(msgs[i].type_id, one_shot[i].type_id);
      EXPECT_EQ(msgs[i].timestamp, one_shot[i].timestamp);
      EXPECT_EQ(msgs[i].csid, one_shot[i].csid);
      EXPECT_EQ(msgs[i].payload, one_shot[i].payload);
    }
    EXPECT_EQ(reader.bytes_consumed(), in.size());
  }
}

TEST(ChunkReader, CountsConsumedBytes) {
  std::vector<uint8_t> in;
  fmt0(in, 3, 0, 200, 20, 0);
  bytes(in, 128);
  ChunkReader reader;
  std::vector<Message> msgs;
  ASSERT_TRUE(reader.feed(in, msgs).ok());
  EXPECT_TRUE(msgs.empty());
  EXPECT_EQ(reader.bytes_consumed(), in.size());
  EXPECT_EQ(reader.buffered_bytes(), 200u);
}

// --- every limit and violation is an error that says what was wrong ---

TEST(ChunkReader, RejectsFirstChunkThatIsNotFmt0) {
  for (unsigned fmt = 1; fmt <= 3; ++fmt) {
    std::vector<uint8_t> in;
    if (fmt == 1) fmt1(in, 5, 0, 1, 9);
    if (fmt == 2) fmt2(in, 5, 0);
    if (fmt == 3) fmt3(in, 5);
    bytes(in, 1);
    EXPECT_EQ(read_error(in), "rtmp chunk stream: chunk stream 5 starts with a fmt " + std::to_string(fmt) +
                                  " header; its first chunk must be fmt 0");
  }
}

TEST(ChunkReader, RejectsChunkSizeOverTheLimit) {
  std::vector<uint8_t> in;
  set_chunk_size(in, 2147483647);
  EXPECT_EQ(read_error(in), "rtmp chunk stream: chunk size 2147483647 exceeds limit 16777216");
}

TEST(ChunkReader, RejectsChunkSizeWithTheTopBitSet) {
  std::vector<uint8_t> in;
  set_chunk_size(in, 0x80000080);
  EXPECT_NE(read_error(in).find("reserved top bit"), std::string::npos);
}

TEST(ChunkReader, RejectsChunkSizeZeroAndShortPayload) {
  std::vector<uint8_t> in;
  set_chunk_size(in, 0);
  EXPECT_EQ(read_error(in), "rtmp chunk stream: chunk size 0");
  in.clear();
  fmt0(in, 2, 0, 2, 1, 0);
  bytes(in, 2);
  EXPECT_EQ(read_error(in), "rtmp chunk stream: Set Chunk Size with a 2-byte payload");
  in.clear();
  fmt0(in, 2, 0, 1, 2, 0);
  bytes(in, 1);
  EXPECT_EQ(read_error(in), "rtmp chunk stream: Abort with a 1-byte payload");
}

TEST(ChunkReader, RejectsMessageLongerThanTheLimit) {
  std::vector<uint8_t> in;
  fmt0(in, 6, 0, 0xFFFFFF, 9, 1);
  EXPECT_EQ(read_error(in), "rtmp chunk stream: chunk stream 6: message length 16777215 exceeds limit 8388608");
  ChunkReaderLimits small;
  small.max_message_length = 100;
  in.clear();
  fmt0(in, 6, 0, 101, 9, 1);
  EXPECT_EQ(read_error(in, small), "rtmp chunk stream: chunk stream 6: message length 101 exceeds limit 100");
}

TEST(ChunkReader, RejectsTooManyPartialMessages) {
  std::vector<uint8_t> in;
  for (uint32_t csid = 3; csid < 3 + 64; ++csid) {
    fmt0(in, csid, 0, 200, 9, 1);
    bytes(in, 128);
  }
  ChunkReader reader;
  std::vector<Message> msgs;
  ASSERT_TRUE(reader.feed(in, msgs).ok());
  in.clear();
  fmt0(in, 100, 0, 200, 9, 1);
  Status s = reader.feed(in, msgs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "rtmp chunk stream: more than 64 chunk streams with a partial message");
}

TEST(ChunkReader, RejectsTooManyChunkStreams) {
  std::vector<uint8_t> in;
  for (uint32_t csid = 3; csid < 3 + 257; ++csid) {
    fmt0(in, csid, 0, 1, 9, 1);
    bytes(in, 1);
  }
  EXPECT_EQ(read_error(in), "rtmp chunk stream: more than 256 chunk streams");
}

TEST(ChunkReader, RejectsTooManyBufferedBytes) {
  ChunkReaderLimits limits;
  limits.max_buffered_bytes = 1000;
  std::vector<uint8_t> in;
  fmt0(in, 6, 0, 600, 9, 1);
  bytes(in, 128);
  fmt0(in, 7, 0, 600, 9, 1);
  EXPECT_EQ(read_error(in, limits), "rtmp chunk stream: partial messages would hold 1200 bytes, limit 1000");
}

TEST(ChunkReader, RejectsNewHeaderInTheMiddleOfAMessage) {
  std::vector<uint8_t> in;
  fmt0(in, 6, 0, 300, 9, 1);
  bytes(in, 128);
  fmt1(in, 6, 10, 300, 9);
  EXPECT_EQ(read_error(in),
            "rtmp chunk stream: chunk stream 6: fmt 1 header in the middle of a message (128 of 300 bytes received)");
}

TEST(ChunkReader, StaysFailedAfterAnError) {
  std::vector<uint8_t> in;
  fmt1(in, 5, 0, 1, 9);
  ChunkReader reader;
  std::vector<Message> msgs;
  EXPECT_FALSE(reader.feed(in, msgs).ok());
  in.clear();
  fmt0(in, 3, 0, 1, 20, 0);
  bytes(in, 1);
  Status s = reader.feed(in, msgs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("chunk stream 5"), std::string::npos);
  EXPECT_TRUE(msgs.empty());
}

TEST(ChunkReader, KeepsMessagesCompletedBeforeAnError) {
  std::vector<uint8_t> in;
  fmt0(in, 3, 0, 2, 20, 0);
  bytes(in, 2);
  set_chunk_size(in, 0);
  ChunkReader reader;
  std::vector<Message> msgs;
  EXPECT_FALSE(reader.feed(in, msgs).ok());
  ASSERT_GE(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type_id, 20);
}

}  // namespace
}  // namespace anchorcast::rtmp
