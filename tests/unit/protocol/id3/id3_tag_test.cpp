// ID3v2 tags for HLS timed metadata: built as v2.4 TXXX, read back bounded.
#include "relay/protocol/id3/id3_tag.hpp"

#include <gtest/gtest.h>

namespace anchorcast::id3 {
namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> list) {
  std::vector<uint8_t> out;
  for (int b : list) out.push_back(static_cast<uint8_t>(b));
  return out;
}

TEST(Id3Tag, BuildsAV24TagWithOneUtf8TxxxFrame) {
  auto tag = build_txxx_tag("anchorcast", "{}");
  ASSERT_TRUE(tag.ok());
  // Header: "ID3" 4.0, no flags, syncsafe size 10 + 1 + 11 + 2 = 24.
  EXPECT_EQ(*tag, bytes({'I', 'D', '3', 4, 0, 0, 0, 0, 0, 24,
                         'T', 'X', 'X', 'X', 0, 0, 0, 14, 0, 0,
                         3, 'a', 'n', 'c', 'h', 'o', 'r', 'c', 'a', 's', 't', 0, '{', '}'}));
}

TEST(Id3Tag, SizesAreSyncsafeAbove127) {
  std::string value(300, 'x');
  auto tag = build_txxx_tag("d", value);
  ASSERT_TRUE(tag.ok());
  const size_t frame = 1 + 1 + 1 + 300;  // 303 = 0b10'0101111
  EXPECT_EQ((*tag)[8], (frame + 10) >> 7);
  EXPECT_EQ((*tag)[9], (frame + 10) & 0x7F);
  EXPECT_EQ((*tag)[16], frame >> 7);
  EXPECT_EQ((*tag)[17], frame & 0x7F);
  for (int i = 6; i < 10; ++i) EXPECT_LT((*tag)[i], 0x80);
}

TEST(Id3Tag, RoundTripsUnicodeJson) {
  const std::string json = R"({"overlays":[{"id":"c1","title":"真丝连衣裙 Silk dress","url":"https://x/y?a=1&b=2"}]})";
  auto built = build_txxx_tag("anchorcast", json);
  ASSERT_TRUE(built.ok());
  auto tag = parse_tag(*built);
  ASSERT_TRUE(tag.ok()) << tag.error().message;
  EXPECT_EQ(tag->major_version, 4);
  EXPECT_EQ(tag->size, built->size());
  ASSERT_EQ(tag->frames.size(), 1u);
  EXPECT_EQ(tag->frames[0].id, "TXXX");
  auto text = parse_txxx(tag->frames[0].body);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->description, "anchorcast");
  EXPECT_EQ(text->value, json);
}

TEST(Id3Tag, BuilderRefusesWhatItCannotBound) {
  EXPECT_FALSE(build_txxx_tag("anchorcast", std::string(100, 'x'), 50).ok());
  EXPECT_FALSE(build_txxx_tag(std::string_view("a\0b", 3), "v").ok());
  EXPECT_TRUE(build_txxx_tag("", "").ok());
}

TEST(Id3Tag, ReadsV23FramesWithPlainSizesAndStopsAtPadding) {
  // A v2.3 tag as older encoders write it: TXXX with a big-endian (not syncsafe) size,
  // then zero padding.
  auto tag = bytes({'I', 'D', '3', 3, 0, 0, 0, 0, 0, 24,
                    'T', 'X', 'X', 'X', 0, 0, 0, 4, 0, 0, 0, 'd', 0, 'v',
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  auto parsed = parse_tag(tag);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->frames.size(), 1u);
  auto text = parse_txxx(parsed->frames[0].body);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->description, "d");
  EXPECT_EQ(text->value, "v");
}

TEST(Id3Tag, SkipsAV24ExtendedHeader) {
  auto tag = bytes({'I', 'D', '3', 4, 0, 0x40, 0, 0, 0, 18,
                    0, 0, 0, 6, 1, 0,  // extended header: size 6 (itself), 1 flag byte, no flags
                    'P', 'R', 'I', 'V', 0, 0, 0, 2, 0, 0, 'o', 0});
  auto parsed = parse_tag(tag);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->frames.size(), 1u);
  EXPECT_EQ(parsed->frames[0].id, "PRIV");
}

TEST(Id3Tag, RejectsMalformedTags) {
  auto good = *build_txxx_tag("d", "value");
  EXPECT_FALSE(parse_tag(std::span(good).first(9)).ok());                   // short header
  EXPECT_FALSE(parse_tag(std::span(good).first(good.size() - 1)).ok());      // truncated
  auto v = good;
  v[3] = 2;
  EXPECT_FALSE(parse_tag(v).ok());  // v2.2
  v = good;
  v[8] = 0x80;
  EXPECT_FALSE(parse_tag(v).ok());  // size not syncsafe
  v = good;
  v[5] = 0x80;
  EXPECT_FALSE(parse_tag(v).ok());  // unsynchronisation
  v = good;
  v[17] = 0x7F;
  EXPECT_FALSE(parse_tag(v).ok());  // frame overruns the tag
  v = good;
  v[10] = 't';
  EXPECT_FALSE(parse_tag(v).ok());  // bad frame id
  EXPECT_FALSE(parse_tag(good, 10).ok());  // over the caller's limit
}

TEST(Id3Tag, TxxxRejectsUtf16AndMissingTerminator) {
  EXPECT_FALSE(parse_txxx(bytes({1, 0xFF, 0xFE, 'a', 0, 0, 0})).ok());
  EXPECT_FALSE(parse_txxx(bytes({3, 'a', 'b'})).ok());
  EXPECT_FALSE(parse_txxx({}).ok());
  auto t = parse_txxx(bytes({3, 'a', 0, 'v', 0}));  // a terminated value
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value, "v");
}

}  // namespace
}  // namespace anchorcast::id3
