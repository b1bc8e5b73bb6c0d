// RtmpPlay: a hub subscription drained into chunked RTMP on a real libuv stream (one end
// of a socketpair), counted, and ended when the stream is removed.
#include "anchorcast/egress/rtmp_play.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "anchorcast/hub/hub.hpp"
#include "relay/protocol/rtmp/chunk_reader.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"
#include "relay/protocol/rtmp/messages.hpp"

namespace anchorcast {
namespace {

constexpr uint32_t kChunkSize = 4096;

PacketPtr packet(MediaKind kind, int64_t dts_ms, bool key, size_t size) {
  Packet p;
  p.kind = kind;
  p.codec = kind == MediaKind::video ? Codec::h264 : Codec::aac;
  p.keyframe = key;
  p.dts = p.pts = dts_ms;
  p.payload.assign(size, 0x42);
  return std::make_shared<const Packet>(std::move(p));
}

class RtmpPlayTest : public ::testing::Test {
 protected:
  RtmpPlayTest() {
    uv_loop_init(&loop_);
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    uv_pipe_init(&loop_, &pipe_, 0);
    uv_pipe_open(&pipe_, fds_[0]);
    EXPECT_TRUE(hub_.add("demo", "key").ok());
    auto publisher = hub_.find("demo")->begin_publish("rtmp");
    EXPECT_TRUE(publisher.ok());
    publisher_ = std::move(*publisher);
    TrackSet t;
    t.video = VideoTrack{Codec::h264, 1280, 720, 30, {1, 0x64, 0, 0x1f, 0xff}};
    t.audio = AudioTrack{Codec::aac, 48000, 2, {0x11, 0x90}};
    publisher_->set_tracks(t);
    publisher_->push(Packet(*packet(MediaKind::video, 0, true, 10000)));
    publisher_->push(Packet(*packet(MediaKind::audio, 10, true, 300)));
  }
  ~RtmpPlayTest() override {
    play_.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&pipe_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    close(fds_[1]);
  }

  void start() {
    RtmpPlay::Hooks hooks;
    hooks.ended = [this] { ++ended_; };
    hooks.failed = [this](const char* why) { failed_ = why; };
    play_ = std::make_unique<RtmpPlay>(reinterpret_cast<uv_stream_t*>(&pipe_), writer_, 1, bytes_, std::move(hooks));
    play_->start(*hub_.find("demo"), [this] { ++notified_; });
  }

  // What reached the other end, as RTMP messages.
  std::vector<rtmp::Message> received() {
    std::vector<uint8_t> bytes;
    rtmp::ChunkWriter(128).append(rtmp::make_set_chunk_size(kChunkSize), bytes);
    uint8_t buf[65536];
    ssize_t n;
    while ((n = recv(fds_[1], buf, sizeof buf, MSG_DONTWAIT)) > 0) {
      bytes.insert(bytes.end(), buf, buf + n);
      received_bytes_ += static_cast<size_t>(n);
    }
    rtmp::ChunkReader reader;
    std::vector<rtmp::Message> out;
    EXPECT_TRUE(reader.feed(bytes, out).ok());
    out.erase(out.begin());
    return out;
  }

  uv_loop_t loop_{};
  uv_pipe_t pipe_{};
  int fds_[2] = {-1, -1};
  Hub hub_;
  std::unique_ptr<StreamPublisher> publisher_;
  rtmp::ChunkWriter writer_{kChunkSize};
  Counter bytes_;
  std::unique_ptr<RtmpPlay> play_;
  int ended_ = 0;
  int notified_ = 0;
  std::string failed_;
  size_t received_bytes_ = 0;
};

TEST_F(RtmpPlayTest, DrainsTheCachedGopIntoOneWriteAndCountsIt) {
  start();
  play_->pump();
  uv_run(&loop_, UV_RUN_DEFAULT);  // until the write completed
  auto msgs = received();
  // onMetaData, the AVC and AAC sequence headers, then the two packets.
  ASSERT_EQ(msgs.size(), 5u);
  EXPECT_EQ(msgs[0].type_id, rtmp::msg::kDataAmf0);
  EXPECT_EQ(msgs[3].type_id, rtmp::msg::kVideo);
  EXPECT_EQ(msgs[3].payload.size(), 5u + 10000u);
  EXPECT_EQ(msgs[4].type_id, rtmp::msg::kAudio);
  EXPECT_EQ(bytes_.value(), received_bytes_);
  EXPECT_TRUE(failed_.empty());
  EXPECT_EQ(ended_, 0);

  // Live packets wake the session, which pumps again.
  int before = notified_;
  publisher_->push(Packet(*packet(MediaKind::video, 40, false, 500)));
  EXPECT_GT(notified_, before);
  play_->pump();
  uv_run(&loop_, UV_RUN_DEFAULT);
  msgs = received();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].timestamp, 40u);
}

TEST_F(RtmpPlayTest, OneWriteInFlightAtATime) {
  start();
  play_->pump();
  publisher_->push(Packet(*packet(MediaKind::video, 40, false, 500)));
  play_->pump();  // the first write has not completed: waits in the hub's queue
  uv_run(&loop_, UV_RUN_DEFAULT);  // completion pumps the rest
  EXPECT_EQ(received().size(), 6u);
  EXPECT_EQ(bytes_.value(), received_bytes_);
}

TEST_F(RtmpPlayTest, EndsOnceTheStreamIsRemoved) {
  start();
  play_->pump();
  uv_run(&loop_, UV_RUN_DEFAULT);
  hub_.remove("demo");
  play_->pump();
  EXPECT_EQ(ended_, 1);
}

TEST_F(RtmpPlayTest, AWriteInFlightOutlivesThePlay) {
  start();
  play_->pump();
  play_.reset();  // deleteStream while libuv still holds the batch
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(received().size(), 5u);
  EXPECT_EQ(bytes_.value(), received_bytes_);
}

}  // namespace
}  // namespace anchorcast
