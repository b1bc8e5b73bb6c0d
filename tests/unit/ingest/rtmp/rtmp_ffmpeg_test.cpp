// The RTMP server against real peers: the ffmpeg CLI publishes (x264 + AAC, as OBS does)
// and plays back. ffmpeg's client uses the digest handshake and, when playing, checks
// the server's S1/S2 digests. Skipped when ffmpeg is not installed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "anchorcast/ingest/rtmp_server.hpp"
#include "child_process.hpp"

namespace anchorcast {
namespace {

using Process = test_support::ChildProcess;

bool have_ffmpeg() { return std::system("ffmpeg -hide_banner -version > /dev/null 2>&1") == 0; }

int last_frame_count(const std::string& log) {
  std::regex re("frame=\\s*(\\d+)");
  int last = -1;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
    last = std::stoi((*it)[1]);
  return last;
}

// A hub with stream "demo" (key "demo-key") behind an RtmpServer on a free port.
class RtmpFfmpeg : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(have_ffmpeg()) << "ffmpeg is missing: ./dev.sh installs it";
    ASSERT_TRUE(hub.add("demo", "demo-key").ok());
    ASSERT_TRUE(server.listen(ListenAddress{"127.0.0.1", 0}).ok());
    loop.start();
  }
  Hub hub;
  Metrics metrics;
  EventLoop loop;
  RtmpServer server{loop, hub, metrics};
};

TEST_F(RtmpFfmpeg, FfmpegPublishesAndPlaysBack) {
  std::string base = "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/";
  std::string tmp = ::testing::TempDir();

  // Small picture: this runs on shared 2-core machines; the 720p run is in the report.
  Process publisher({"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re", "-f", "lavfi", "-i",
                     "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine", "-t", "6", "-c:v", "libx264",
                     "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-c:a", "aac", "-f", "flv",
                     base + "demo-key?source=test"},
                    tmp + "rtmp_ffmpeg_publish.log");

  auto stream = hub.find("demo");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(stream->live() && stream->snapshot().tracks) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(stream->live()) << publisher.log();

  Process player({"ffmpeg", "-hide_banner", "-nostdin", "-i", base + "demo", "-t", "3", "-f", "null", "-"},
                 tmp + "rtmp_ffmpeg_play.log");
  int play_status = player.wait(std::chrono::milliseconds(20000));
  int publish_status = publisher.wait(std::chrono::milliseconds(20000));
  std::string play_log = player.log();
  EXPECT_EQ(play_status, 0) << play_log;
  EXPECT_EQ(publish_status, 0) << publisher.log();
  EXPECT_GE(last_frame_count(play_log), 60) << play_log;  // ~3 s at 30 fps
  EXPECT_NE(play_log.find("Video: h264"), std::string::npos) << play_log;
  EXPECT_NE(play_log.find("Audio: aac"), std::string::npos) << play_log;

  auto snap = stream->snapshot();
  EXPECT_GT(snap.packets_in, 200u);  // 6 s of 30 fps video plus audio
  EXPECT_EQ(metrics.counter("anchorcast_rtmp_protocol_errors_total", "").value(), 0u);
  loop.stop();
}

TEST_F(RtmpFfmpeg, FfmpegWithAWrongKeyFails) {
  Process publisher({"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-f", "lavfi", "-i",
                     "testsrc2=size=160x120:rate=10", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-f",
                     "flv", "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/not-the-key"},
                    ::testing::TempDir() + "rtmp_ffmpeg_badkey.log");
  int status = publisher.wait(std::chrono::milliseconds(20000));
  EXPECT_NE(status, 0);
  EXPECT_NE(publisher.log().find("Unknown stream key"), std::string::npos) << publisher.log();
  EXPECT_FALSE(hub.find("demo")->live());
  loop.stop();
}

}  // namespace
}  // namespace anchorcast
