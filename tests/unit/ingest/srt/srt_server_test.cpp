// SrtServer against the real ffmpeg CLI publishing MPEG-TS over SRT (ffmpeg links the
// same gnutls libsrt), into a real Hub. Skipped when ffmpeg is not installed.
#include "anchorcast/ingest/srt_server.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <thread>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "child_process.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "wait_until.hpp"

namespace anchorcast {
namespace {

using namespace std::chrono_literals;
constexpr const char* kKey = "demo-key-123456";

using Process = test_support::ChildProcess;

bool have_ffmpeg() { return std::system("ffmpeg -hide_banner -protocols 2>/dev/null | grep -qx ' *srt'") == 0; }

// A small real-time publisher: 320x240@30 x264 + 44.1 kHz AAC in MPEG-TS over SRT.
Process publish(uint16_t port, const std::string& stream_id, int seconds, const std::string& log_name) {
  return Process({"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-re", "-f", "lavfi", "-i",
                  "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t",
                  std::to_string(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g",
                  "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mpegts",
                  "srt://127.0.0.1:" + std::to_string(port) + "?streamid=" + stream_id},
                 ::testing::TempDir() + log_name);
}


uint64_t counter(Metrics& m, const std::string& name, std::vector<std::pair<std::string, std::string>> labels) {
  return m.counter(name, "", std::move(labels)).value();
}

struct Collected {
  int tracks_events = 0;
  TrackSetPtr tracks;
  int video = 0, audio = 0, keyframes = 0;
  bool gone = false;
  int64_t last_video_dts = -1;
  bool dts_monotonic = true;
};

void drain(Subscription& sub, Collected& c) {
  std::vector<MediaEvent> events;
  sub.pop_all(events);
  for (const auto& e : events) {
    if (e.type == MediaEvent::Type::tracks) {
      ++c.tracks_events;
      c.tracks = e.tracks;
    } else if (e.type == MediaEvent::Type::packet) {
      if (e.packet->kind == MediaKind::video) {
        ++c.video;
        c.keyframes += e.packet->keyframe;
        if (e.packet->dts <= c.last_video_dts) c.dts_monotonic = false;
        c.last_video_dts = e.packet->dts;
      } else {
        ++c.audio;
      }
    } else if (e.type == MediaEvent::Type::publisher_gone) {
      c.gone = true;
    }
  }
}

class SrtServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(have_ffmpeg()) << "ffmpeg with SRT is missing: ./dev.sh installs it";
    ASSERT_TRUE(hub.add("demo", kKey).ok());
    ASSERT_TRUE(hub.add("other", "other-key-987654").ok());
    for (auto& loop : viewer_loops) loop.start();
    server = std::make_unique<SrtServer>(hub, metrics, std::vector<EventLoop*>{&viewer_loops[0], &viewer_loops[1]});
    auto listening = server->listen(ListenAddress{"127.0.0.1", 0}, 120, "");
    ASSERT_TRUE(listening.ok()) << listening.error().message;
    port = server->port();
    ASSERT_NE(port, 0);
    stream = hub.find("demo");
  }
  void TearDown() override {
    if (server) server->close();
  }

  Hub hub;
  Metrics metrics;
  EventLoop viewer_loops[2];  // outlive the server
  std::unique_ptr<SrtServer> server;
  uint16_t port = 0;
  std::shared_ptr<Stream> stream;
};

TEST_F(SrtServerTest, FfmpegPublishesWithThePlainStreamId) {
  auto sub = stream->subscribe({});
  Collected c;
  auto ffmpeg = publish(port, kKey, 3, "srt_plain.log");
  ASSERT_TRUE(test::wait_until([&] { return stream->live(); }, 10s)) << ffmpeg.log();
  EXPECT_EQ(stream->snapshot().protocol, "srt");
  EXPECT_EQ(ffmpeg.wait(20s), 0) << ffmpeg.log();
  ASSERT_TRUE(test::wait_until([&] { drain(*sub, c); return c.gone; }, 10s));
  EXPECT_FALSE(stream->live());

  ASSERT_TRUE(c.tracks);
  ASSERT_TRUE(c.tracks->video);
  EXPECT_EQ(c.tracks->video->codec, Codec::h264);
  EXPECT_EQ(c.tracks->video->width, 320);
  EXPECT_EQ(c.tracks->video->height, 240);
  EXPECT_DOUBLE_EQ(c.tracks->video->fps, 30);
  ASSERT_TRUE(c.tracks->audio);
  EXPECT_EQ(c.tracks->audio->sample_rate, 44100);
  EXPECT_EQ(c.tracks_events, 1);
  // 3 s at 30 fps. ffmpeg closes its SRT socket without linger (live mode), so what
  // was still inside the 120 ms receive latency window when it left never arrives.
  EXPECT_GE(c.video, 84);
  EXPECT_LE(c.video, 90);
  EXPECT_EQ(c.keyframes, 3);
  EXPECT_GE(c.audio, 120);  // 3 s of 1024-sample frames at 44.1 kHz: ~129
  EXPECT_TRUE(c.dts_monotonic);
  EXPECT_GT(counter(metrics, "anchorcast_ingest_bytes_total", {{"protocol", "srt"}}), 10000u);
  EXPECT_EQ(counter(metrics, "anchorcast_srt_ts_errors_total", {{"kind", "continuity"}}), 0u);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("anchorcast_srt_ingest_latency_seconds_count"), std::string::npos);
}

TEST_F(SrtServerTest, FfmpegPublishesWithTheAccessControlForm) {
  auto sub = stream->subscribe({});
  Collected c;
  auto ffmpeg = publish(port, std::string("#!::u=anchor,r=") + kKey + ",m=publish,x=ignored", 2,
                        "srt_access_control.log");
  ASSERT_TRUE(test::wait_until([&] { drain(*sub, c); return c.video > 10; }, 10s)) << ffmpeg.log();
  // Link stats are exported per publisher while it is live.
  const std::string text = metrics.render();
  EXPECT_NE(text.find("anchorcast_srt_rtt_seconds{stream=\"demo\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("anchorcast_srt_publishers 1"), std::string::npos) << text;
  EXPECT_EQ(ffmpeg.wait(20s), 0) << ffmpeg.log();
  ASSERT_TRUE(test::wait_until([&] { drain(*sub, c); return c.gone; }, 10s));
  // 2 s = 60 frames and ~86 AAC frames; the tail inside the latency window is lost
  // when ffmpeg closes (for audio a whole PES of ~16 frames may be in it).
  EXPECT_GE(c.video, 54);
  EXPECT_GT(c.audio, 60);
  EXPECT_NE(metrics.render().find("anchorcast_srt_publishers 0"), std::string::npos);
}

TEST_F(SrtServerTest, WrongKeyIsRejectedInTheHandshake) {
  auto ffmpeg = publish(port, "not-the-key", 2, "srt_badkey.log");
  EXPECT_NE(ffmpeg.wait(20s), 0) << ffmpeg.log();
  EXPECT_FALSE(stream->live());
  EXPECT_FALSE(hub.find("other")->live());
  EXPECT_EQ(counter(metrics, "anchorcast_publish_rejects_total", {{"reason", "bad_key"}}), 1u);
  EXPECT_EQ(counter(metrics, "anchorcast_srt_publisher_sessions_total", {}), 0u);
}

TEST_F(SrtServerTest, BidirectionalModeIsRejectedWithBadMode) {
  auto ffmpeg = publish(port, std::string("#!::r=") + kKey + ",m=bidirectional", 2, "srt_bidir.log");
  EXPECT_NE(ffmpeg.wait(20s), 0) << ffmpeg.log();
  EXPECT_FALSE(stream->live());
  EXPECT_EQ(counter(metrics, "anchorcast_publish_rejects_total", {{"reason", "unsupported_mode"}}), 1u);
}

Process play(uint16_t port, const std::string& stream_id, const std::string& log_name) {
  return Process({"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-i",
                  "srt://127.0.0.1:" + std::to_string(port) + "?streamid=" + stream_id, "-t", "2", "-f", "null", "-"},
                 ::testing::TempDir() + log_name);
}

TEST_F(SrtServerTest, PlaybackOfAnUnknownOrOfflineStreamIsRejected) {
  auto unknown = play(port, "#!::r=nosuch,m=request", "srt_play_unknown.log");
  EXPECT_NE(unknown.wait(20s), 0) << unknown.log();
  auto offline = play(port, "#!::r=demo,m=request", "srt_play_offline.log");
  EXPECT_NE(offline.wait(20s), 0) << offline.log();
  EXPECT_EQ(counter(metrics, "anchorcast_publish_rejects_total", {{"reason", "bad_key"}}), 0u);
}

TEST_F(SrtServerTest, FfmpegPlaysALiveStreamBackOverSrt) {
  auto publisher = publish(port, kKey, 6, "srt_play_source.log");
  ASSERT_TRUE(test::wait_until([&] { return stream->live() && stream->snapshot().tracks; }, 10s)) << publisher.log();
  auto player = play(port, "#!::r=demo,m=request", "srt_play.log");
  EXPECT_EQ(player.wait(20s), 0) << player.log();
  const std::string log = player.log();
  EXPECT_NE(log.find("Video: h264"), std::string::npos) << log;
  EXPECT_NE(log.find("Audio: aac"), std::string::npos) << log;
  // "frame=   60" at the end: 2 s at 30 fps decoded.
  auto at = log.rfind("frame=");
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_GE(std::stoi(log.substr(at + 6)), 50) << log;
  EXPECT_EQ(publisher.wait(20s), 0) << publisher.log();
}

// Viewers are dealt to the loops round robin; each loop's viewer gets the whole stream.
TEST_F(SrtServerTest, ViewersOnEachLoopPlayTheStream) {
  auto publisher = publish(port, kKey, 8, "srt_play_two_source.log");
  ASSERT_TRUE(test::wait_until([&] { return stream->live() && stream->snapshot().tracks; }, 10s)) << publisher.log();
  auto first = play(port, "#!::r=demo,m=request", "srt_play_first.log");
  auto second = play(port, "#!::r=demo,m=request", "srt_play_second.log");
  EXPECT_TRUE(test::wait_until([&] { return server->viewers_per_loop() == std::vector<size_t>{1, 1}; }, 10s))
      << "viewers per loop: " << server->viewers_per_loop()[0] << ", " << server->viewers_per_loop()[1];
  for (Process* player : {&first, &second}) {
    EXPECT_EQ(player->wait(20s), 0) << player->log();
    const std::string log = player->log();
    auto at = log.rfind("frame=");
    ASSERT_NE(at, std::string::npos) << log;
    EXPECT_GE(std::stoi(log.substr(at + 6)), 50) << log;  // 2 s at 30 fps
  }
  // Each viewer ends on its loop once its player left (SRT_EPOLL_ERR, or a failed send).
  EXPECT_TRUE(test::wait_until([&] { return server->viewers_per_loop() == std::vector<size_t>{0, 0}; }, 10s));
  EXPECT_EQ(publisher.wait(20s), 0) << publisher.log();
}

// The same with x265 (HEVC, stream type 0x24) and no audio, a keyframe (IDR, then CRAs:
// x265's open GOP) every 30 frames.
Process publish_hevc(uint16_t port, const std::string& stream_id, int seconds, const std::string& log_name) {
  return Process({"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-re", "-f", "lavfi", "-i",
                  "testsrc2=size=320x240:rate=30", "-t", std::to_string(seconds), "-c:v", "libx265", "-preset",
                  "ultrafast", "-x265-params", "keyint=30:scenecut=0:log-level=error", "-pix_fmt", "yuv420p", "-f",
                  "mpegts", "srt://127.0.0.1:" + std::to_string(port) + "?streamid=" + stream_id},
                 ::testing::TempDir() + log_name);
}

// Annex B HEVC from the TS becomes hub packets in hvcC framing under a track whose
// record is built from the in-band VPS/SPS/PPS; a player gets HEVC back over SRT.
TEST_F(SrtServerTest, FfmpegPublishesHevcAndPlaysItBackOverSrt) {
  auto sub = stream->subscribe({});
  Collected c;
  std::vector<PacketPtr> video;
  auto keep = [&] {
    std::vector<MediaEvent> events;
    sub->pop_all(events);
    for (const auto& e : events) {
      if (e.type == MediaEvent::Type::tracks) {
        ++c.tracks_events;
        c.tracks = e.tracks;
      } else if (e.type == MediaEvent::Type::packet && e.packet->kind == MediaKind::video) {
        video.push_back(e.packet);
      } else if (e.type == MediaEvent::Type::publisher_gone) {
        c.gone = true;
      }
    }
  };
  // 7 s: the player's ffmpeg reads 5 s of a TS (its max_analyze_duration; the format
  // has no header, whatever the codec) before it decodes the first of its 2 s.
  auto publisher = publish_hevc(port, kKey, 7, "srt_hevc_source.log");
  ASSERT_TRUE(test::wait_until([&] { return stream->live() && stream->snapshot().tracks; }, 10s)) << publisher.log();
  auto player = play(port, "#!::r=demo,m=request", "srt_hevc_play.log");
  EXPECT_EQ(player.wait(20s), 0) << player.log();
  const std::string log = player.log();
  EXPECT_NE(log.find("Video: hevc"), std::string::npos) << log;
  auto at = log.rfind("frame=");
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_GE(std::stoi(log.substr(at + 6)), 50) << log;  // 2 s at 30 fps decoded
  EXPECT_EQ(publisher.wait(20s), 0) << publisher.log();
  ASSERT_TRUE(test::wait_until([&] { keep(); return c.gone; }, 10s));

  ASSERT_TRUE(c.tracks);
  ASSERT_TRUE(c.tracks->video);
  EXPECT_FALSE(c.tracks->audio);
  EXPECT_EQ(c.tracks_events, 1);
  EXPECT_EQ(c.tracks->video->codec, Codec::hevc);
  EXPECT_EQ(c.tracks->video->width, 320);
  EXPECT_EQ(c.tracks->video->height, 240);
  auto record = hevc::parse_hevc_decoder_config(c.tracks->video->decoder_config);
  ASSERT_TRUE(record.ok()) << record.error().message;
  ASSERT_EQ(record->arrays.size(), 3u);  // VPS, SPS, PPS
  EXPECT_EQ(record->general.profile_idc, 1);  // Main

  // 7 s at 30 fps, every frame one 3000-tick step after the last: none missing but at
  // the end. There x265 hands its lookahead (up to ~10 frames at ultrafast) over at once
  // when its input ends, and ffmpeg closes its SRT socket without linger, so what is
  // still inside the 120 ms latency window never arrives.
  EXPECT_GE(video.size(), 190u);
  EXPECT_LE(video.size(), 210u);
  int keyframes = 0;
  int64_t last_dts = -1;
  for (const auto& p : video) {
    EXPECT_EQ(p->codec, Codec::hevc);
    auto irap = hevc::is_keyframe_access_unit(p->bytes(), 4);
    ASSERT_TRUE(irap.ok()) << irap.error().message;
    EXPECT_EQ(*irap, p->keyframe);
    keyframes += p->keyframe;
    if (last_dts >= 0) {
      EXPECT_EQ(p->dts_in(k90kHz) - last_dts, 3000);
    }
    last_dts = p->dts_in(k90kHz);
  }
  EXPECT_EQ(keyframes, 7);  // frames 0, 30, ..., 180
  EXPECT_TRUE(video.front()->keyframe);
}

TEST_F(SrtServerTest, SecondPublisherIsRefusedAndTheFirstKeepsStreaming) {
  auto sub = stream->subscribe({});
  Collected c;
  auto first = publish(port, kKey, 5, "srt_first.log");
  ASSERT_TRUE(test::wait_until([&] { drain(*sub, c); return c.video > 5; }, 10s)) << first.log();
  auto second = publish(port, kKey, 2, "srt_second.log");
  EXPECT_NE(second.wait(20s), 0) << second.log();
  EXPECT_EQ(counter(metrics, "anchorcast_publish_rejects_total", {{"reason", "already_live"}}), 1u);
  const int before = c.video;
  ASSERT_TRUE(test::wait_until([&] { drain(*sub, c); return c.video > before + 15; }, 5s)) << "first publisher stalled";
  EXPECT_TRUE(stream->live());
  EXPECT_EQ(first.wait(20s), 0) << first.log();
  ASSERT_TRUE(test::wait_until([&] { drain(*sub, c); return c.gone; }, 10s));
  EXPECT_EQ(c.tracks_events, 1);
}

TEST_F(SrtServerTest, ReconnectContinuesTheSameViewerTimeline) {
  auto sub = stream->subscribe({});
  Collected c;
  {
    auto first = publish(port, kKey, 2, "srt_session1.log");
    EXPECT_EQ(first.wait(20s), 0) << first.log();
  }
  ASSERT_TRUE(test::wait_until([&] { drain(*sub, c); return c.gone; }, 10s));
  const int64_t end_of_first = c.last_video_dts;
  c.gone = false;
  auto second = publish(port, std::string("#!::r=") + kKey + ",m=publish", 2, "srt_session2.log");
  EXPECT_EQ(second.wait(20s), 0) << second.log();
  ASSERT_TRUE(test::wait_until([&] { drain(*sub, c); return c.gone; }, 10s));
  EXPECT_EQ(c.tracks_events, 2);  // one per session
  EXPECT_GT(c.last_video_dts, end_of_first);
  EXPECT_TRUE(c.dts_monotonic);  // the hub shifted the second session after the first
  EXPECT_EQ(counter(metrics, "anchorcast_srt_publisher_sessions_total", {}), 2u);
}

TEST_F(SrtServerTest, ReconnectingAnchorReplacesItsSilentPredecessor) {
  // Anchor A freezes (SIGSTOP: no data, no keepalives); SRT itself would notice only
  // after its 5 s peer idle timeout. A new connection with the key takes over once A has
  // been silent for the takeover time (1.5 s here), instead of being refused.
  auto a = publish(port, kKey, 20, "srt_frozen.log");
  ASSERT_TRUE(test::wait_until([&] { return stream->live() && stream->snapshot().tracks; }, 10s)) << a.log();
  a.signal(SIGSTOP);
  std::this_thread::sleep_for(2s);
  auto sub = stream->subscribe({});
  Collected c;
  auto b = publish(port, kKey, 2, "srt_replacement.log");
  ASSERT_TRUE(test::wait_until([&] { drain(*sub, c); return c.video > 10; }, 10s)) << b.log();
  EXPECT_EQ(b.wait(20s), 0) << b.log();
  EXPECT_EQ(counter(metrics, "anchorcast_publish_rejects_total", {{"reason", "already_live"}}), 0u);
  EXPECT_EQ(counter(metrics, "anchorcast_srt_publisher_sessions_total", {}), 2u);
  a.signal(SIGKILL);
}

TEST_F(SrtServerTest, CloseEndsTheLivePublisher) {
  auto ffmpeg = publish(port, kKey, 10, "srt_close.log");
  ASSERT_TRUE(test::wait_until([&] { return stream->live(); }, 10s)) << ffmpeg.log();
  server->close();
  EXPECT_FALSE(stream->live());
  server->close();  // idempotent
}

TEST(SrtServerListen, ErrorsNameTheAddress) {
  Hub hub;
  Metrics metrics;
  // A UDP port some other socket holds.
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  const uint16_t taken = ntohs(sa.sin_port);
  {
    SrtServer server(hub, metrics, {});
    auto st = server.listen(ListenAddress{"127.0.0.1", taken}, 120, "");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message.rfind("srt.listen 127.0.0.1:" + std::to_string(taken) + ": ", 0), 0u)
        << st.error().message;
  }
  close(fd);
  SrtServer server(hub, metrics, {});
  auto short_pass = server.listen(ListenAddress{"127.0.0.1", 0}, 120, "short");
  ASSERT_FALSE(short_pass.ok());
  EXPECT_NE(short_pass.error().message.find("passphrase must be 10..79"), std::string::npos);
  auto bad_host = server.listen(ListenAddress{"no-such-host.invalid", 9000}, 120, "");
  ASSERT_FALSE(bad_host.ok());
  EXPECT_EQ(bad_host.error().message.rfind("srt.listen no-such-host.invalid:9000: ", 0), 0u);
}

// A start-up that fails after SRT listens (the HTTP port taken) closes SRT before the
// data-plane loops ever started: close() must not wait for them (it once hung there).
TEST(SrtServerListen, CloseReturnsWhenTheViewerLoopsNeverStarted) {
  Hub hub;
  Metrics metrics;
  EventLoop never_started;
  auto server = std::make_unique<SrtServer>(hub, metrics, std::vector<EventLoop*>{&never_started});
  ASSERT_TRUE(server->listen(ListenAddress{"127.0.0.1", 0}, 120, "").ok());
  auto closed = std::async(std::launch::async, [&] { server->close(); });
  ASSERT_EQ(closed.wait_for(10s), std::future_status::ready) << "close() waits for a loop that never ran";
  server.reset();
}

TEST(SrtServerListen, PassphraseIsRequiredOfCallers) {
  ASSERT_TRUE(have_ffmpeg()) << "ffmpeg with SRT is missing: ./dev.sh installs it";
  Hub hub;
  ASSERT_TRUE(hub.add("demo", kKey).ok());
  Metrics metrics;
  SrtServer server(hub, metrics, {});
  ASSERT_TRUE(server.listen(ListenAddress{"127.0.0.1", 0}, 120, "correct-horse-battery").ok());
  auto without = publish(server.port(), kKey, 1, "srt_nopass.log");
  EXPECT_NE(without.wait(20s), 0) << without.log();
  EXPECT_FALSE(hub.find("demo")->live());
  auto with = publish(server.port(), std::string(kKey) + "&passphrase=correct-horse-battery", 1,
                      "srt_pass.log");
  EXPECT_EQ(with.wait(20s), 0) << with.log();
  EXPECT_EQ(hub.find("demo")->snapshot().sessions, 1u);
}

}  // namespace
}  // namespace anchorcast
