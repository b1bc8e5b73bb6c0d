#include "overlay/command_batch.hpp"

#include <nlohmann/json.hpp>
#include <set>

namespace anchorcast::overlay {

using control::Command;
using control::CommandError;
using nlohmann::json;

namespace {

std::string error_reply(const std::string& req, const CommandError& e) {
  return json{{"type", "error"}, {"req", req}, {"code", control::error_code_name(e.code)}, {"message", e.message}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

BatchResult apply_batch(BatchStates& states, std::vector<BatchJob>& jobs, const AssetExists& asset_exists,
                        int64_t now_ms) {
  BatchResult out;
  out.outcomes.resize(jobs.size());
  std::set<std::string, std::less<>> inline_assets;
  auto exists = [&](std::string_view id) { return inline_assets.count(id) > 0 || asset_exists(id); };
  states.for_each([&](const std::string& stream, OverlayState& state) {
    for (auto& f : state.run_due(now_ms, exists)) {
      out.writes.push_back(StoreWrite{stream, f.change.version, std::move(f.change.ops)});
      out.fired.push_back(FiredCommand{stream, f.scheduled.id, f.change.version, std::move(f.error)});
    }
  });
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto& job = jobs[i];
    auto& outcome = out.outcomes[i];
    if (job.admin) {
      out.writes.push_back(std::move(*job.admin));
      job.admin.reset();
      continue;
    }
    const Command& cmd = *job.command;
    OverlayState* state = states.find_known(job.stream);
    if (!state) {
      outcome.reply = error_reply(cmd.req, {control::ErrorCode::not_found, "stream '" + job.stream + "' was deleted"});
      continue;
    }
    auto result = state->apply(cmd, now_ms, exists);
    if (auto* e = std::get_if<CommandError>(&result)) {
      outcome.reply = error_reply(cmd.req, *e);
      continue;
    }
    auto& change = std::get<Change>(result);
    for (const auto& op : change.ops) {
      if (op.kind != StoreOp::Kind::put_asset || !op.image) continue;
      inline_assets.insert(op.id);
      out.new_assets.push_back(AssetInfo{op.id, op.image->info.mime, op.image->info.width, op.image->info.height,
                                         static_cast<int64_t>(op.image->bytes.size())});
    }
    json ack = {{"type", "ack"}, {"req", cmd.req}, {"version", change.version}};
    if (!change.schedule_id.empty()) {
      ack["scheduled"] = change.schedule_id;
      outcome.event = ScheduledEvent{json{{"type", "scheduled"},
                                          {"version", change.version},
                                          {"id", change.schedule_id},
                                          {"at_ms", *cmd.at_ms}}
                                         .dump()};
    } else {
      outcome.event = ChangeEvent{change.version};
    }
    outcome.reply = ack.dump(-1, ' ', false, json::error_handler_t::replace);
    out.writes.push_back(StoreWrite{job.stream, change.version, std::move(change.ops)});
  }
  return out;
}

void settle_batch(BatchResult& result, const std::vector<BatchJob>& jobs, const Status& committed) {
  if (committed) return;
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto& outcome = result.outcomes[i];
    if (!outcome.acked()) continue;
    outcome.reply =
        error_reply(jobs[i].command->req, {control::ErrorCode::invalid, "not stored: " + committed.error().message});
    outcome.event = NoEvent{};
  }
}

}  // namespace anchorcast::overlay
