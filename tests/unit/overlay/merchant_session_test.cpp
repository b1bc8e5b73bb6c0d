// A merchant session (overlay/control/merchant_session.cpp) with a fake socket: reply
// order, refusals, back-pressure and the image check, against a real ControlPlane over a
// temporary data_dir. Until the writer starts, every submitted command waits for its commit.
#include "anchorcast/overlay/merchant_session.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "anchorcast/overlay/control_plane.hpp"
#include "overlay/control/merchant_session.hpp"
#include "test_images.hpp"

namespace anchorcast {
namespace {

using nlohmann::json;

// "r<i>" (built with append: GCC 12's -Wrestrict misfires on "r" + std::to_string(i)).
std::string req_of(size_t i) { return std::string("r").append(std::to_string(i)); }

std::string clear(const std::string& req) { return R"({"type":"overlay.clear","req":")" + req + R"("})"; }

std::string card_with_image(const std::string& req, const std::string& image) {
  return R"({"type":"card.show","req":")" + req + R"(","card":{"id":"c1","title":"Silk dress","price":"¥299",)" +
         R"("position":"bottom-left","image":")" + test::data_uri("image/png", image) + R"("}})";
}

// The socket side: what the session sent, what it posted (run on this, the "socket's"
// thread, by run_until) and whether it asked to pause reading or to be dropped.
class FakeSocket {
 public:
  MerchantSocket socket() {
    MerchantSocket s;
    s.send = [this](std::string m) {
      sent.push_back(std::move(m));
      return queued_after_send;
    };
    s.post = [this](std::function<void()> task) {
      std::lock_guard lock(mutex_);
      posted_.push_back(std::move(task));
      ++posts_;
    };
    s.pause_reading = [this] { ++pauses, paused = true; };
    s.resume_reading = [this] { paused = false; };
    s.drop = [this] { dropped = true; };
    return s;
  }

  // Runs posted tasks until `done` holds (5 s at most).
  template <typename Done>
  bool run_until(Done done) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::deque<std::function<void()>> tasks;
      {
        std::lock_guard lock(mutex_);
        tasks.swap(posted_);
      }
      if (tasks.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      for (auto& t : tasks) t();
    }
    return true;
  }

  // How many tasks were posted so far.
  size_t posts() {
    std::lock_guard lock(mutex_);
    return posts_;
  }

  // The sent messages of one type ("ack", "error", ...), in order.
  std::vector<json> of_type(const std::string& type) const {
    std::vector<json> out;
    for (const auto& m : sent)
      if (auto j = json::parse(m); j["type"] == type) out.push_back(j);
    return out;
  }
  // The replies (acks and errors) in the order they left.
  std::vector<json> replies() const {
    std::vector<json> out;
    for (const auto& m : sent)
      if (auto j = json::parse(m); j["type"] == "ack" || j["type"] == "error") out.push_back(j);
    return out;
  }

  std::vector<std::string> sent;
  size_t queued_after_send = 1;
  int pauses = 0;
  bool paused = false;
  bool dropped = false;

 private:
  std::mutex mutex_;
  std::deque<std::function<void()>> posted_;
  size_t posts_ = 0;
};

class MerchantSessionTest : public ::testing::Test {
 protected:
  explicit MerchantSessionTest(int rate_limit_per_s = 50)
      : dir_(std::filesystem::temp_directory_path() / ("anchorcast-merchant-session-" + std::to_string(::getpid()))),
        config_(make_config(dir_.string(), rate_limit_per_s)),
        control_(hub_, metrics_, config_) {
    for (const auto& s : config_.streams) EXPECT_TRUE(hub_.add(s.id, s.publish_key).ok());
    EXPECT_TRUE(control_.open().ok());
    session_.emplace(control_, "demo", "10.0.0.1:5000", socket_.socket());
    session_->open();
  }
  ~MerchantSessionTest() override {
    session_.reset();
    control_.stop();
    std::filesystem::remove_all(dir_);
  }
  static Config make_config(const std::string& dir, int rate_limit_per_s) {
    std::filesystem::remove_all(dir);
    Config c;
    c.data_dir = dir;
    c.control.rate_limit_per_s = rate_limit_per_s;
    c.streams.push_back(StreamConfig{"demo", "demo-key", OverlayMode::metadata, {"tok-demo"}});
    return c;
  }
  void text(const std::string& frame) { session_->on_frame(MerchantSession::Frame::text, frame); }

  std::filesystem::path dir_;
  Config config_;
  Hub hub_;
  Metrics metrics_;
  ControlPlane control_;
  FakeSocket socket_;
  std::optional<MerchantSession> session_;
};

TEST_F(MerchantSessionTest, OpensWithTheStreamsState) {
  ASSERT_EQ(socket_.sent.size(), 1u);
  auto state = json::parse(socket_.sent[0]);
  EXPECT_EQ(state["type"], "state");
  EXPECT_EQ(state["version"], 0);
  EXPECT_EQ(control_.merchant_count("demo"), 1u);
  session_->close();
  EXPECT_EQ(control_.merchant_count("demo"), 0u);
}

TEST_F(MerchantSessionTest, AnImmediateErrorWaitsForTheAckBeforeIt) {
  text(clear("r1"));  // waits for its commit: the writer is not running yet
  text("not json");   // refused at once
  EXPECT_EQ(socket_.sent.size(), 1u) << "the error must not overtake the ack";
  control_.start();
  ASSERT_TRUE(socket_.run_until([&] { return socket_.replies().size() == 2; }));
  auto replies = socket_.replies();
  EXPECT_EQ(replies[0]["type"], "ack");
  EXPECT_EQ(replies[0]["req"], "r1");
  EXPECT_EQ(replies[1]["type"], "error");
  EXPECT_EQ(replies[1]["code"], "bad_json");
  EXPECT_TRUE(replies[1]["req"].is_null());
}

TEST_F(MerchantSessionTest, ABatchOfRepliesReachesTheSocketsThreadAsOneTask) {
  for (size_t i = 0; i < 20; ++i) text(clear(req_of(i)));  // all wait for one commit
  control_.start();
  control_.flush();  // committed, replied and applied: every arrival is waiting
  EXPECT_EQ(socket_.posts(), 1u) << "one task for the batch, not one per reply or event";
  ASSERT_TRUE(socket_.run_until([&] { return socket_.replies().size() == 20; }));
  auto replies = socket_.replies();
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(replies[i]["req"], req_of(i));
  EXPECT_EQ(socket_.of_type("applied").size(), 20u);
}

TEST_F(MerchantSessionTest, BinaryFramesAreRefusedWithTheContractsText) {
  session_->on_frame(MerchantSession::Frame::binary, clear("r1"));
  ASSERT_EQ(socket_.sent.size(), 2u);
  EXPECT_EQ(socket_.sent[1],
            R"({"code":"bad_json","message":"binary frames are not accepted: send each command as a JSON text frame",)"
            R"("req":null,"type":"error"})");
}

class MerchantSessionRateTest : public MerchantSessionTest {
 protected:
  MerchantSessionRateTest() : MerchantSessionTest(2) {}
};

TEST_F(MerchantSessionRateTest, CommandsPastTheRateAreRefused) {
  control_.start();
  for (const char* req : {"r1", "r2", "r3"}) text(clear(req));
  ASSERT_TRUE(socket_.run_until([&] { return socket_.replies().size() == 3; }));
  auto replies = socket_.replies();
  EXPECT_EQ(replies[0]["type"], "ack");
  EXPECT_EQ(replies[1]["type"], "ack");
  EXPECT_EQ(replies[2].dump(),
            R"({"code":"rate_limited","message":"more than 2 commands per second on this connection; slow down",)"
            R"("req":"r3","type":"error"})");
}

TEST_F(MerchantSessionTest, ImagesAreDecodedOffThisThreadAndKeepTheirPlace) {
  control_.start();
  text(card_with_image("bad", test::png_bytes(8, 8)));  // a header without pixels
  text(clear("after-bad"));
  text(card_with_image("good", test::real_png_1x1()));
  text(clear("after-good"));
  ASSERT_TRUE(socket_.run_until([&] { return socket_.replies().size() == 4; }));
  auto replies = socket_.replies();
  EXPECT_EQ(replies[0]["req"], "bad");
  EXPECT_EQ(replies[0]["code"], "invalid");
  EXPECT_EQ(replies[0]["message"].get<std::string>().rfind("card.image: cannot be decoded as image/png", 0), 0u)
      << replies[0]["message"];
  EXPECT_EQ(replies[1]["req"], "after-bad");
  EXPECT_EQ(replies[2]["req"], "good");
  EXPECT_EQ(replies[2]["type"], "ack");
  EXPECT_EQ(replies[3]["req"], "after-good");
  // Applied in the order they were read: the clear behind the card came after it.
  EXPECT_LT(replies[2]["version"].get<int>(), replies[3]["version"].get<int>());
  EXPECT_EQ(control_.overlay_count("demo"), 0u);
}

class MerchantSessionBackPressureTest : public MerchantSessionTest {
 protected:
  MerchantSessionBackPressureTest() : MerchantSessionTest(1000000) {}
};

TEST_F(MerchantSessionBackPressureTest, StopsReadingWhileTooManyRepliesWaitAndResumesBelowHalf) {
  for (size_t i = 0; i + 1 < control::kMaxPendingReplies; ++i) text(clear(req_of(i)));
  EXPECT_FALSE(socket_.paused);
  text(clear("last"));
  EXPECT_TRUE(socket_.paused) << "4096 replies wait for the writer";
  EXPECT_EQ(socket_.pauses, 1);
  control_.start();
  ASSERT_TRUE(socket_.run_until([&] { return !socket_.paused; }));
  EXPECT_GE(socket_.replies().size(), control::kMaxPendingReplies / 2 + 1);
  ASSERT_TRUE(socket_.run_until([&] { return socket_.replies().size() == control::kMaxPendingReplies; }));
  EXPECT_EQ(socket_.replies().back()["req"], "last");
}

TEST_F(MerchantSessionTest, AMerchantWhoReadsNothingIsDropped) {
  socket_.queued_after_send = control::kMaxQueuedMessages + 1;
  session_->on_frame(MerchantSession::Frame::binary, "x");  // one more frame for a full queue
  EXPECT_TRUE(socket_.dropped);
}

}  // namespace
}  // namespace anchorcast
