// The writer thread's batch logic without the thread or SQLite: what each job gets back,
// which rows go into the transaction, and what a failed commit turns acks into.
#include "overlay/command_batch.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_images.hpp"

namespace anchorcast::overlay {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000'000;

// Streams as the control plane knows them: a state per stream, some ids no longer known.
struct MapStates final : BatchStates {
  std::map<std::string, OverlayState, std::less<>> states;
  std::set<std::string> known;

  void for_each(const std::function<void(const std::string&, OverlayState&)>& visit) override {
    for (auto& [stream, state] : states) visit(stream, state);
  }
  OverlayState* find_known(const std::string& stream) override {
    return known.count(stream) ? &states[stream] : nullptr;
  }
};

BatchJob command_job(const std::string& stream, const std::string& text) {
  auto parsed = control::parse_command(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return BatchJob{stream, parsed.command(), std::nullopt};
}

BatchJob admin_job(const std::string& stream) {
  return BatchJob{stream, std::nullopt, StoreWrite{stream, 0, {StoreOp{StoreOp::Kind::put_stream, stream, "{}", 0, nullptr}}}};
}

const AssetExists kNoAssets = [](std::string_view) { return false; };

std::string card(const std::string& req, const std::string& id, const std::string& extra = "") {
  return R"({"type":"card.show","req":")" + req + R"(","card":{"id":")" + id + R"(","title":"t","price":"1")" +
         extra + "}}";
}

TEST(CommandBatch, EachJobGetsItsReplyAndEventAndTheRowsKeepJobOrder) {
  MapStates states;
  states.known = {"demo", "created"};
  std::vector<BatchJob> jobs;
  jobs.push_back(command_job("demo", card("a", "c1")));
  jobs.push_back(command_job("demo", R"({"type":"card.hide","req":"b","id":"zz"})"));
  jobs.push_back(command_job("demo", R"({"type":"overlay.clear","req":"c","at_ms":4000000000000})"));
  jobs.push_back(command_job("deleted", card("d", "c1")));
  jobs.push_back(admin_job("created"));

  auto result = apply_batch(states, jobs, kNoAssets, kNow);

  ASSERT_EQ(result.outcomes.size(), 5u);
  // The bytes merchants get (nlohmann's sorted keys, as before the split).
  EXPECT_EQ(result.outcomes[0].reply, R"({"req":"a","type":"ack","version":1})");
  ASSERT_TRUE(std::holds_alternative<ChangeEvent>(result.outcomes[0].event));
  EXPECT_EQ(std::get<ChangeEvent>(result.outcomes[0].event).version, 1u);

  auto refused = json::parse(result.outcomes[1].reply);
  EXPECT_EQ(refused["type"], "error");
  EXPECT_EQ(refused["req"], "b");
  EXPECT_EQ(refused["code"], "not_found");
  EXPECT_FALSE(result.outcomes[1].acked());

  EXPECT_EQ(result.outcomes[2].reply, R"({"req":"c","scheduled":"sch-2","type":"ack","version":2})");
  ASSERT_TRUE(std::holds_alternative<ScheduledEvent>(result.outcomes[2].event));
  EXPECT_EQ(std::get<ScheduledEvent>(result.outcomes[2].event).json,
            R"({"at_ms":4000000000000,"id":"sch-2","type":"scheduled","version":2})");

  EXPECT_EQ(result.outcomes[3].reply,
            R"({"code":"not_found","message":"stream 'deleted' was deleted","req":"d","type":"error"})");
  EXPECT_FALSE(result.outcomes[3].acked());
  EXPECT_FALSE(states.states.count("deleted")) << "no state is made up for an unknown stream";

  EXPECT_TRUE(result.outcomes[4].reply.empty());
  EXPECT_FALSE(result.outcomes[4].acked());
  EXPECT_FALSE(jobs[4].admin) << "the admin write moved into the batch";

  ASSERT_EQ(result.writes.size(), 3u);
  EXPECT_EQ(result.writes[0].stream, "demo");
  EXPECT_EQ(result.writes[0].version, 1u);
  EXPECT_EQ(result.writes[1].version, 2u);
  EXPECT_EQ(result.writes[1].ops.back().kind, StoreOp::Kind::put_scheduled);
  EXPECT_EQ(result.writes[2].stream, "created");
  EXPECT_EQ(result.writes[2].ops.front().kind, StoreOp::Kind::put_stream);
  EXPECT_TRUE(result.fired.empty());
  EXPECT_TRUE(result.new_assets.empty());
  EXPECT_EQ(states.states["demo"].version(), 2u);
  EXPECT_EQ(states.states["demo"].records().size(), 1u);
}

TEST(CommandBatch, DueScheduledCommandsFireFirstEvenWhenTheyFail) {
  MapStates states;
  states.known = {"demo"};
  std::vector<BatchJob> jobs;
  jobs.push_back(command_job("demo", card("a", "c1")));
  jobs.push_back(command_job("demo", R"({"type":"card.hide","req":"b","id":"c1","at_ms":)" +
                                         std::to_string(kNow + 1000) + "}"));
  jobs.push_back(command_job("demo", R"({"type":"card.hide","req":"c","id":"c9","at_ms":)" +
                                         std::to_string(kNow + 2000) + "}"));
  apply_batch(states, jobs, kNoAssets, kNow);

  std::vector<BatchJob> later;
  later.push_back(command_job("demo", card("d", "c2")));
  auto result = apply_batch(states, later, kNoAssets, kNow + 5000);

  ASSERT_EQ(result.fired.size(), 2u);
  EXPECT_EQ(result.fired[0].stream, "demo");
  EXPECT_EQ(result.fired[0].schedule_id, "sch-2");
  EXPECT_EQ(result.fired[0].version, 4u);
  EXPECT_FALSE(result.fired[0].error);
  EXPECT_EQ(result.fired[1].schedule_id, "sch-3");
  EXPECT_EQ(result.fired[1].version, 5u);
  ASSERT_TRUE(result.fired[1].error) << "card c9 was never shown";
  EXPECT_EQ(result.fired[1].error->code, control::ErrorCode::not_found);
  ASSERT_EQ(result.writes.size(), 3u) << "two fired commands, then the job";
  EXPECT_EQ(result.writes[0].version, 4u);
  EXPECT_EQ(result.writes[1].version, 5u);
  EXPECT_EQ(result.writes[2].version, 6u);
  EXPECT_EQ(std::get<ChangeEvent>(result.outcomes[0].event).version, 6u);
  ASSERT_EQ(states.states["demo"].records().size(), 1u);
  EXPECT_EQ(states.states["demo"].records()[0].overlay.id, "c2");
}

TEST(CommandBatch, AnImageSentInlineIsKnownToTheJobsAfterIt) {
  MapStates states;
  states.known = {"demo"};
  std::string png = test::png_bytes(64, 32);
  std::string id = control::asset_id_for(png);
  std::vector<BatchJob> jobs;
  jobs.push_back(command_job("demo", card("a", "c2", R"(,"image":")" + id + R"(")")));
  jobs.push_back(command_job("demo", card("b", "c1", R"(,"image":")" + test::data_uri("image/png", png) + R"(")")));
  jobs.push_back(command_job("demo", card("c", "c2", R"(,"image":")" + id + R"(")")));

  auto result = apply_batch(states, jobs, kNoAssets, kNow);

  EXPECT_FALSE(result.outcomes[0].acked()) << "not uploaded yet";
  EXPECT_TRUE(result.outcomes[1].acked());
  EXPECT_TRUE(result.outcomes[2].acked()) << result.outcomes[2].reply;
  ASSERT_EQ(result.new_assets.size(), 1u);
  EXPECT_EQ(result.new_assets[0].id, id);
  EXPECT_EQ(result.new_assets[0].mime, "image/png");
  EXPECT_EQ(result.new_assets[0].width, 64);
  EXPECT_EQ(result.new_assets[0].bytes, static_cast<int64_t>(png.size()));
}

TEST(CommandBatch, AFailedCommitTurnsAcksIntoNotStoredErrors) {
  MapStates states;
  states.known = {"demo"};
  std::vector<BatchJob> jobs;
  jobs.push_back(command_job("demo", card("a", "c1")));
  jobs.push_back(command_job("demo", R"({"type":"card.hide","req":"b","id":"zz"})"));
  jobs.push_back(command_job("demo", R"({"type":"overlay.clear","req":"c","at_ms":4000000000000})"));
  jobs.push_back(admin_job("demo"));
  auto result = apply_batch(states, jobs, kNoAssets, kNow);
  std::string refused = result.outcomes[1].reply;

  settle_batch(result, jobs, make_error("disk I/O error"));

  EXPECT_EQ(result.outcomes[0].reply,
            R"({"code":"invalid","message":"not stored: disk I/O error","req":"a","type":"error"})");
  EXPECT_TRUE(std::holds_alternative<NoEvent>(result.outcomes[0].event));
  EXPECT_EQ(result.outcomes[1].reply, refused) << "an error stays the error it was";
  EXPECT_EQ(json::parse(result.outcomes[2].reply)["message"], "not stored: disk I/O error");
  EXPECT_TRUE(std::holds_alternative<NoEvent>(result.outcomes[2].event));
  EXPECT_TRUE(result.outcomes[3].reply.empty()) << "admin writes learn the status from the commit itself";
}

TEST(CommandBatch, ASuccessfulCommitLeavesTheOutcomesAlone) {
  MapStates states;
  states.known = {"demo"};
  std::vector<BatchJob> jobs;
  jobs.push_back(command_job("demo", card("a", "c1")));
  auto result = apply_batch(states, jobs, kNoAssets, kNow);
  settle_batch(result, jobs, Status{});
  EXPECT_EQ(result.outcomes[0].reply, R"({"req":"a","type":"ack","version":1})");
  EXPECT_TRUE(std::holds_alternative<ChangeEvent>(result.outcomes[0].event));
}

}  // namespace
}  // namespace anchorcast::overlay
