// RtmpPlay: a hub subscription drained into chunked RTMP on a real libuv stream (one end
// of a socketpair), counted, and ended when the stream is removed; a socket with room
// takes a batch at once, a full one the rest as a queued write.
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

  struct Target : ReadyTarget {
    void on_ready() override { ++runs; }
    int runs = 0;
  };

  void start() {
    RtmpPlay::Hooks hooks;
    hooks.ended = [this] { ++ended_; };
    hooks.failed = [this](const char* why) { failed_ = why; };
    play_ = std::make_unique<RtmpPlay>(reinterpret_cast<uv_stream_t*>(&pipe_), writer_, 1, shared_, bytes_,
                                       std::move(hooks));
    play_->start(*hub_.find("demo"), ready_, target_);
  }

  // The socket's send buffer at its smallest, so a big batch cannot go at once.
  void shrink_send_buffer() {
    int size = 4096;
    ASSERT_EQ(setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
  }

  // Reads what the other end has so far.
  void pull() {
    uint8_t buf[65536];
    ssize_t n;
    while ((n = recv(fds_[1], buf, sizeof buf, MSG_DONTWAIT)) > 0) {
      bytes_in_.insert(bytes_in_.end(), buf, buf + n);
      received_bytes_ += static_cast<size_t>(n);
    }
  }

  // Runs the loop, reading the other end, until no write is pending.
  void run_reading() {
    while (uv_run(&loop_, UV_RUN_NOWAIT) != 0) pull();
    pull();
  }

  // What reached the other end since the last call, as RTMP messages.
  std::vector<rtmp::Message> received() {
    pull();
    std::vector<uint8_t> bytes;
    rtmp::ChunkWriter(128).append(rtmp::make_set_chunk_size(kChunkSize), bytes);
    bytes.insert(bytes.end(), bytes_in_.begin(), bytes_in_.end());
    bytes_in_.clear();
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
  int wakes_ = 0;
  ReadyList ready_{[this] { ++wakes_; }};
  Target target_;
  RtmpPlayLoop shared_;
  std::unique_ptr<RtmpPlay> play_;
  std::vector<uint8_t> bytes_in_;
  int ended_ = 0;
  std::string failed_;
  size_t received_bytes_ = 0;
};

TEST_F(RtmpPlayTest, DrainsTheCachedGopIntoOneWriteAndCountsIt) {
  start();
  EXPECT_EQ(wakes_, 1);  // the GOP replay marked the session ready; its loop runs it
  ready_.drain();
  EXPECT_EQ(target_.runs, 1);
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

  // A live packet marks the session ready (one wake); the loop runs it, it pumps.
  int before = wakes_;
  publisher_->push(Packet(*packet(MediaKind::video, 40, false, 500)));
  EXPECT_EQ(wakes_, before + 1);
  ready_.drain();
  EXPECT_EQ(target_.runs, 2);
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

TEST_F(RtmpPlayTest, AFullSocketTakesTheRestAsAQueuedWrite) {
  shrink_send_buffer();
  publisher_->push(Packet(*packet(MediaKind::video, 40, false, 1 << 20)));
  start();
  play_->pump();  // part of the batch goes at once, the rest waits for room
  pull();
  ASSERT_LT(received_bytes_, size_t{1} << 20) << "the batch went at once: the test needs a full socket";
  EXPECT_EQ(bytes_.value(), 0u);  // counted when the queued write completes
  run_reading();
  auto msgs = received();
  ASSERT_EQ(msgs.size(), 6u);
  EXPECT_EQ(msgs[5].payload.size(), 5u + (1u << 20));
  EXPECT_EQ(msgs[5].payload.back(), 0x42);
  EXPECT_EQ(bytes_.value(), received_bytes_);
  EXPECT_TRUE(failed_.empty());
}

TEST_F(RtmpPlayTest, AWriteInFlightOutlivesThePlay) {
  shrink_send_buffer();
  publisher_->push(Packet(*packet(MediaKind::video, 40, false, 1 << 20)));
  start();
  play_->pump();
  pull();
  ASSERT_LT(received_bytes_, size_t{1} << 20) << "the batch went at once: nothing was left in flight";
  play_.reset();  // deleteStream while libuv still holds the rest of the batch
  run_reading();
  auto msgs = received();
  ASSERT_EQ(msgs.size(), 6u);
  EXPECT_EQ(msgs[5].payload.size(), 5u + (1u << 20));
  EXPECT_EQ(bytes_.value(), received_bytes_);
}

TEST_F(RtmpPlayTest, AGoneViewerIsNotRunAgain) {
  start();
  EXPECT_EQ(wakes_, 1);  // the GOP replay marked it
  play_.reset();         // before the loop ran it
  ready_.drain();
  EXPECT_EQ(target_.runs, 0);
}

}  // namespace
}  // namespace anchorcast
