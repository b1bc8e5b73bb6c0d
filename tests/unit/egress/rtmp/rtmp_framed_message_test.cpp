// The shared chunked form of a message (FramedMessage) against the per-player framing it
// replaces (ChunkWriter::append of the whole tag body), byte for byte, over chunk sizes,
// extended timestamps, message types and chunk stream ids; and the loop's cache: players
// share one form per packet and chunk size.
#include "relay/egress/rtmp/rtmp_framed_message.hpp"

#include <gtest/gtest.h>

#include "relay/protocol/rtmp/messages.hpp"

namespace anchorcast {
namespace {

PacketPtr packet_of(size_t size) {
  auto p = std::make_shared<Packet>();
  p->payload.resize(size);
  for (size_t i = 0; i < size; ++i) p->payload[i] = static_cast<uint8_t>(i * 7 + 1);
  return p;
}

std::vector<uint8_t> wire_of(const FramedMessage& m) {
  std::vector<uint8_t> out;
  for (const auto& r : m.refs) {
    const uint8_t* base = r.payload ? m.packet->payload.data() : m.owned.data();
    out.insert(out.end(), base + r.offset, base + r.offset + r.length);
  }
  return out;
}

TEST(FramedMessage, EqualsPerPlayerFramingByteForByte) {
  const std::vector<uint8_t> prefixes[] = {{}, {0xAF, 0x01}, {0x17, 0x01, 0x00, 0x00, 0x28}};
  int cases = 0;
  for (uint32_t chunk_size : {1u, 128u, 4096u, 65536u})
    for (uint32_t timestamp : {0u, 40u, 0xFFFFFEu, 0xFFFFFFu, 0x12345678u})
      for (uint8_t type : {rtmp::msg::kAudio, rtmp::msg::kVideo, rtmp::msg::kDataAmf0})
        for (uint32_t csid : {3u, 6u, 64u, 320u, 65599u})
          for (size_t size : {size_t{0}, size_t{1}, size_t{127}, size_t{128}, size_t{129}, size_t{10000}})
            for (const auto& prefix : prefixes) {
              if (chunk_size == 1 && size > 129) continue;  // 10,000 one-byte chunks add nothing
              rtmp::ChunkWriter writer(chunk_size);
              rtmp::ChunkHeaderFields fields{csid, type, 1, timestamp};
              auto packet = packet_of(size);
              auto framed = FramedMessage::build(writer, fields, prefix, packet);
              std::vector<uint8_t> body(prefix);
              body.insert(body.end(), packet->payload.begin(), packet->payload.end());
              std::vector<uint8_t> expected;
              writer.append(fields, body, expected);
              ASSERT_EQ(wire_of(*framed), expected) << "chunk size " << chunk_size << ", timestamp " << timestamp
                                                    << ", type " << int(type) << ", csid " << csid << ", size "
                                                    << size << ", prefix " << prefix.size();
              EXPECT_EQ(framed->size_bytes, expected.size());
              ++cases;
            }
  EXPECT_GT(cases, 1000);
}

TEST(FramedMessage, ThePayloadIsReferencedNotCopied) {
  rtmp::ChunkWriter writer(4096);
  auto packet = packet_of(20000);
  auto framed = FramedMessage::build(writer, {6, rtmp::msg::kVideo, 1, 40}, std::vector<uint8_t>{0x17, 1, 0, 0, 0},
                                     packet);
  size_t referenced = 0;
  for (const auto& r : framed->refs) referenced += r.payload ? r.length : 0;
  EXPECT_EQ(referenced, 20000u);
  EXPECT_LT(framed->owned.size(), 64u);  // prefix and five chunk headers
  EXPECT_EQ(framed->packet, packet);     // and it keeps the payload alive
}

TEST(FramedMessageCache, PlayersShareOneFormPerPacketAndChunkSize) {
  FramedMessageCache cache;
  rtmp::ChunkWriter big(4096), small(128);
  rtmp::ChunkHeaderFields fields{6, rtmp::msg::kVideo, 1, 40};
  std::vector<uint8_t> prefix{0x27, 1, 0, 0, 0};
  auto packet = packet_of(3000);
  auto first = cache.get(big, fields, prefix, packet);
  auto second = cache.get(big, fields, prefix, packet);
  EXPECT_EQ(first, second);  // the second player took the first one's form
  EXPECT_EQ(cache.hits(), 1u);
  auto other_size = cache.get(small, fields, prefix, packet);
  EXPECT_NE(other_size, first);
  fields.stream_id = 2;
  EXPECT_NE(cache.get(big, fields, prefix, packet), first);
  fields.stream_id = 1;
  EXPECT_EQ(cache.misses(), 3u);

  // 60 newer forms (63 in all): still cached. Past the cache's depth (64), a lagging
  // player frames its own, the same bytes.
  for (int i = 0; i < 60; ++i) cache.get(big, fields, prefix, packet_of(10));
  EXPECT_EQ(cache.get(big, fields, prefix, packet), first);
  for (int i = 0; i < 64; ++i) cache.get(big, fields, prefix, packet_of(10));
  auto again = cache.get(big, fields, prefix, packet);
  EXPECT_NE(again, first);
  EXPECT_EQ(wire_of(*again), wire_of(*first));
}

}  // namespace
}  // namespace anchorcast
