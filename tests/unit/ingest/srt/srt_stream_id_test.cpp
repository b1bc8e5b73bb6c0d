// The SRT streamid forms of the contract: the bare publish key, and the access-control
// syntax (SRT docs/features/access-control.md).
#include "relay/ingest/srt/srt_stream_id.hpp"

#include <gtest/gtest.h>

namespace anchorcast {
namespace {

using Mode = SrtStreamRequest::Mode;

TEST(SrtStreamId, PlainStreamIdIsTheKey) {
  auto r = parse_srt_stream_id("demo-key-123456");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resource, "demo-key-123456");
  EXPECT_EQ(r->mode, Mode::publish);
  EXPECT_FALSE(r->access_control);
}

TEST(SrtStreamId, AccessControlFormTakesResourceAndMode) {
  auto r = parse_srt_stream_id("#!::r=KEY,m=publish");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resource, "KEY");
  EXPECT_EQ(r->mode, Mode::publish);
  EXPECT_TRUE(r->access_control);
}

TEST(SrtStreamId, OrderUserAndUnknownKeysDoNotMatter) {
  auto r = parse_srt_stream_id("#!::u=anchor,m=publish,h=example.com,s=abc,t=stream,custom=1,r=KEY");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resource, "KEY");
  EXPECT_EQ(r->user, "anchor");
}

TEST(SrtStreamId, MissingModeMeansPublishOnThisListener) {
  auto r = parse_srt_stream_id("#!::r=KEY");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mode, Mode::publish);
}

TEST(SrtStreamId, PlaybackAndBidirectionalAreRecognised) {
  EXPECT_EQ(parse_srt_stream_id("#!::r=demo,m=request")->mode, Mode::request);
  EXPECT_EQ(parse_srt_stream_id("#!::r=demo,m=bidirectional")->mode, Mode::bidirectional);
}

TEST(SrtStreamId, MalformedFormsFailWithoutEchoingTheValue) {
  for (const char* bad : {"", "#!::m=publish", "#!::r=", "#!::r=s3cr3t,m=upload", "#!::r=s3cr3t,t=file",
                          "#!::=x,r=s3cr3t", "#!::r=s3cr3t,novalue", "#!:{r=s3cr3t}"}) {
    auto r = parse_srt_stream_id(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message.find("s3cr3t"), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(parse_srt_stream_id(std::string(kSrtMaxStreamIdSize + 1, 'k')).ok());
}

}  // namespace
}  // namespace anchorcast
