#include "overlay/state/overlay_state.hpp"

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "test_images.hpp"

namespace anchorcast::overlay {
namespace {

using control::Command;
using control::CommandError;
using control::ErrorCode;
using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000'000;

Command cmd(const std::string& text) {
  auto out = control::parse_command(text);
  EXPECT_TRUE(out.ok()) << text << ": " << (out.ok() ? "" : out.error().message);
  return out.command();
}

Command card(const std::string& id, const std::string& title = "Silk dress", int64_t duration_ms = 0) {
  return cmd(R"({"type":"card.show","req":"r","card":{"id":")" + id + R"(","title":")" + title +
             R"(","price":"¥299","duration_ms":)" + std::to_string(duration_ms) + "}}");
}
Command sale(const std::string& id, int64_t stock, int64_t duration_ms) {
  return cmd(R"({"type":"sale.start","req":"r","sale":{"id":")" + id + R"(","title":"Flash","price":"¥9.9","stock":)" +
             std::to_string(stock) + R"(,"duration_ms":)" + std::to_string(duration_ms) + "}}");
}

class OverlayStateTest : public ::testing::Test {
 protected:
  ApplyResult apply(const Command& c, int64_t now = kNow) {
    return state_.apply(c, now, [this](std::string_view id) { return assets_.count(std::string(id)) > 0; });
  }
  uint64_t ok(const Command& c, int64_t now = kNow) {
    auto r = apply(c, now);
    EXPECT_TRUE(std::holds_alternative<Change>(r)) << (std::holds_alternative<CommandError>(r) ? std::get<CommandError>(r).message : "");
    return std::holds_alternative<Change>(r) ? std::get<Change>(r).version : 0;
  }
  CommandError err(const Command& c, int64_t now = kNow) {
    auto r = apply(c, now);
    EXPECT_TRUE(std::holds_alternative<CommandError>(r));
    return std::holds_alternative<CommandError>(r) ? std::get<CommandError>(r) : CommandError{};
  }
  json overlays(int64_t now = kNow) { return json::parse(state_.overlays_json(now)); }

  OverlayState state_;
  std::set<std::string> assets_;
};

TEST_F(OverlayStateTest, ShowReplaceHide) {
  EXPECT_EQ(ok(card("c1")), 1u);
  EXPECT_EQ(ok(card("c2")), 2u);
  EXPECT_EQ(ok(card("c1", "Replaced")), 3u);
  auto list = overlays();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], "c1");  // replaced in place: keeps its position
  EXPECT_EQ(list[0]["title"], "Replaced");
  EXPECT_EQ(ok(cmd(R"({"type":"card.hide","req":"r","id":"c1"})")), 4u);
  EXPECT_EQ(overlays().size(), 1u);
  auto e = err(cmd(R"({"type":"card.hide","req":"r","id":"c1"})"));
  EXPECT_EQ(e.code, ErrorCode::not_found);
  EXPECT_EQ(state_.version(), 4u);  // errors do not bump the version
  EXPECT_EQ(ok(cmd(R"({"type":"overlay.clear","req":"r"})")), 5u);
  EXPECT_EQ(overlays().size(), 0u);
}

TEST_F(OverlayStateTest, CardWithDurationDisappears) {
  ok(card("c1", "t", 5000));
  EXPECT_EQ(overlays(kNow + 4999).size(), 1u);
  EXPECT_EQ(overlays(kNow + 4999)[0]["expires_at_ms"], kNow + 5000);
  EXPECT_EQ(overlays(kNow + 5000).size(), 0u);
  EXPECT_EQ(state_.visible_count(kNow + 5000), 0u);
}

TEST_F(OverlayStateTest, SaleCountdownSoldOutEnded) {
  ok(sale("s1", 2, 60000));
  auto s = overlays()[0];
  EXPECT_EQ(s["status"], "active");
  EXPECT_EQ(s["ends_at_ms"], kNow + 60000);
  EXPECT_EQ(s["stock"], 2);
  ok(cmd(R"({"type":"sale.update","req":"r","id":"s1","stock":0})"), kNow + 1000);
  EXPECT_EQ(overlays(kNow + 1000)[0]["status"], "sold_out");
  EXPECT_EQ(overlays(kNow + 60000)[0]["status"], "ended");  // time 0: ended, still listed
  EXPECT_EQ(err(cmd(R"({"type":"sale.update","req":"r","id":"s1","stock":5})"), kNow + 60001).message,
            "id: sale 's1' has ended");
  EXPECT_EQ(err(cmd(R"({"type":"sale.update","req":"r","id":"nope","stock":5})")).code, ErrorCode::not_found);
  EXPECT_EQ(err(cmd(R"({"type":"sale.end","req":"r","id":"nope"})")).code, ErrorCode::not_found);
  ok(card("c1"));
  EXPECT_EQ(err(cmd(R"({"type":"sale.end","req":"r","id":"c1"})")).code, ErrorCode::not_found);  // a card is no sale
}

TEST_F(OverlayStateTest, SaleEndEndsNowAndEndsAtMsIsWallClock) {
  ok(cmd(R"({"type":"sale.start","req":"r","sale":{"id":"s1","title":"t","price":"1","stock":5,"ends_at_ms":)" +
         std::to_string(kNow + 30000) + "}}"));
  EXPECT_EQ(overlays()[0]["ends_at_ms"], kNow + 30000);
  ok(cmd(R"({"type":"sale.end","req":"r","id":"s1"})"), kNow + 10);
  auto s = overlays(kNow + 10)[0];
  EXPECT_EQ(s["status"], "ended");
  EXPECT_EQ(s["ends_at_ms"], kNow + 10);
}

TEST_F(OverlayStateTest, AtMost32Overlays) {
  for (int i = 0; i < 32; ++i) ok(card("c" + std::to_string(i)));
  auto e = err(card("c32"));
  EXPECT_EQ(e.code, ErrorCode::invalid);
  EXPECT_EQ(e.message, "at most 32 overlays per stream: hide one first");
  ok(card("c5", "replacing is fine"));
}

TEST_F(OverlayStateTest, ImagesAreAssetsThatMustExist) {
  auto c = card("c1");
  c.overlay.image = "img-00000000000000aa";
  EXPECT_EQ(err(c).code, ErrorCode::not_found);
  assets_.insert("img-00000000000000aa");
  ok(c);
  EXPECT_EQ(overlays()[0]["image"], "img-00000000000000aa");
  // A data: URI carries its bytes: the change stores them as an asset.
  auto with_data = cmd(R"({"type":"card.show","req":"r","card":{"id":"c2","title":"t","price":"1","image":")" +
                       test::data_uri("image/png", test::png_bytes(8, 8)) + R"("}})");
  auto r = apply(with_data);
  ASSERT_TRUE(std::holds_alternative<Change>(r));
  bool put_asset = false;
  for (const auto& op : std::get<Change>(r).ops) put_asset |= op.kind == StoreOp::Kind::put_asset;
  EXPECT_TRUE(put_asset);
}

TEST_F(OverlayStateTest, ScheduleRunAndCancel) {
  auto later = card("c1");
  later.at_ms = kNow + 5000;
  auto r = apply(later);
  ASSERT_TRUE(std::holds_alternative<Change>(r));
  EXPECT_EQ(std::get<Change>(r).schedule_id, "sch-1");
  EXPECT_EQ(overlays().size(), 0u);
  auto scheduled = json::parse(state_.scheduled_json());
  ASSERT_EQ(scheduled.size(), 1u);
  EXPECT_EQ(scheduled[0]["id"], "sch-1");
  EXPECT_EQ(scheduled[0]["at_ms"], kNow + 5000);
  EXPECT_EQ(scheduled[0]["command"]["type"], "card.show");
  EXPECT_EQ(*state_.next_due_ms(), kNow + 5000);

  auto exists = [](std::string_view) { return false; };
  EXPECT_TRUE(state_.run_due(kNow + 4999, exists).empty());
  auto fired = state_.run_due(kNow + 5000, exists);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_FALSE(fired[0].error);
  EXPECT_EQ(fired[0].change.version, 2u);
  EXPECT_EQ(overlays(kNow + 5000).size(), 1u);
  EXPECT_FALSE(state_.next_due_ms());

  auto clear = cmd(R"({"type":"overlay.clear","req":"r","at_ms":)" + std::to_string(kNow + 9000) + "}");
  auto r2 = apply(clear);
  std::string id = std::get<Change>(r2).schedule_id;
  ok(cmd(R"({"type":"schedule.cancel","req":"r","id":")" + id + "\"}"));
  EXPECT_TRUE(state_.run_due(kNow + 10000, exists).empty());
  EXPECT_EQ(err(cmd(R"({"type":"schedule.cancel","req":"r","id":")" + id + "\"}")).code, ErrorCode::not_found);
  // at_ms in the past: applied at once.
  auto past = card("c9");
  past.at_ms = kNow - 1;
  EXPECT_TRUE(std::get<Change>(apply(past)).schedule_id.empty());
}

TEST_F(OverlayStateTest, ScheduledCommandThatFailsLaterIsDropped) {
  auto hide = cmd(R"({"type":"card.hide","req":"r","id":"ghost","at_ms":)" + std::to_string(kNow + 10) + "}");
  ok(hide);
  auto fired = state_.run_due(kNow + 10, [](std::string_view) { return false; });
  ASSERT_EQ(fired.size(), 1u);
  ASSERT_TRUE(fired[0].error);
  EXPECT_EQ(fired[0].error->code, ErrorCode::not_found);
  EXPECT_EQ(json::parse(state_.scheduled_json()).size(), 0u);
}

TEST_F(OverlayStateTest, RestoreFromRowsGivesTheSameState) {
  ok(card("c1", "真丝连衣裙"));
  ok(sale("s1", 10, 60000));
  ok(card("c2", "t", 100000));
  auto later = card("c3");
  later.at_ms = kNow + 50000;
  ok(later);
  std::vector<std::string> docs;
  std::vector<std::pair<std::string, std::string>> scheduled;
  // The rows the store would hold: replay every op.
  std::map<std::string, std::string> rows;
  OverlayState fresh;
  std::vector<Command> cmds = {card("c1", "真丝连衣裙"), sale("s1", 10, 60000), card("c2", "t", 100000), later};
  for (auto& c : cmds) {
    auto r = fresh.apply(c, kNow, [](std::string_view) { return false; });
    for (auto& op : std::get<Change>(r).ops) {
      if (op.kind == StoreOp::Kind::put_overlay) rows[op.id] = op.doc;
      if (op.kind == StoreOp::Kind::put_scheduled) scheduled.emplace_back(op.id, op.doc);
    }
  }
  for (auto& [id, doc] : rows) docs.push_back(doc);
  OverlayState restored;
  restored.restore(fresh.version(), docs, scheduled);
  EXPECT_EQ(restored.version(), state_.version());
  EXPECT_EQ(restored.overlays_json(kNow + 1), state_.overlays_json(kNow + 1));
  EXPECT_EQ(restored.scheduled_json(), state_.scheduled_json());
  // A sale whose end passed while the server was down shows as ended.
  auto later_view = json::parse(restored.overlays_json(kNow + 3600000));
  EXPECT_EQ(later_view.size(), 2u);  // c2's 100 s are over; the sale is still listed
  EXPECT_EQ(later_view[1]["status"], "ended");
}

}  // namespace
}  // namespace anchorcast::overlay
