// The control-plane writer's work on one batch, without the thread, the locks or SQLite:
// due scheduled commands fire, every job is applied to its stream's state in submission
// order, and out come the rows for one transaction and, per job, the reply and the event
// its merchants get once the rows are durable. ControlPlane (control_plane.cpp) keeps
// the rest: waiting for jobs, locking, the commit, and sending what this decided.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "overlay/control/command.hpp"
#include "overlay/state/overlay_state.hpp"
#include "overlay/state/overlay_store.hpp"

namespace anchorcast::overlay {

// One queued job.
struct BatchJob {
  std::string stream;
  std::optional<control::Command> command;  // a merchant command, or
  std::optional<StoreWrite> admin;          // an admin write: rows only, no state, no reply
};

// What a job's merchants get once its batch is durable.
struct NoEvent {};
struct ScheduledEvent {
  std::string json;  // the `scheduled` message for every merchant of the stream
};
struct ChangeEvent {
  uint64_t version;  // the stream's scene changed: its outputs report `applied` for it
};
using JobEvent = std::variant<NoEvent, ScheduledEvent, ChangeEvent>;

struct JobOutcome {
  std::string reply;  // the ack or error for the merchant who sent it (empty: admin write)
  JobEvent event;
  bool acked() const { return !std::holds_alternative<NoEvent>(event); }
};

// A scheduled command that came due. Its row is deleted even when it fails then (the card
// is gone, say), so it is a change all the same.
struct FiredCommand {
  std::string stream;
  std::string schedule_id;
  uint64_t version = 0;
  std::optional<control::CommandError> error;
};

struct BatchResult {
  std::vector<StoreWrite> writes;    // one transaction: fired commands first, then the jobs'
  std::vector<JobOutcome> outcomes;  // one per job, in job order
  std::vector<FiredCommand> fired;   // in the order they ran (stream id, then at_ms)
  std::vector<AssetInfo> new_assets;  // images merchants sent inline, known from now on
};

// The per-stream states a batch works on (ControlPlane keeps them beside each stream's
// merchants; tests keep a plain map).
class BatchStates {
 public:
  virtual ~BatchStates() = default;
  // Every stream's state, in stream id order.
  virtual void for_each(const std::function<void(const std::string& stream, OverlayState& state)>& visit) = 0;
  // The state of a stream the config or the admin API defines (created on first use), or
  // null when there is no such stream (any more).
  virtual OverlayState* find_known(const std::string& stream) = 0;
};

// `asset_exists`: assets stored before this batch; images sent inline earlier in the
// batch count too. Moves the jobs' admin writes into the result.
BatchResult apply_batch(BatchStates& states, std::vector<BatchJob>& jobs, const AssetExists& asset_exists,
                        int64_t now_ms);

// After the commit. A failed one turns every ack into an `invalid` "not stored: ..." error
// and drops its event (the state was reloaded from what is durable). Fired commands keep
// theirs: their scene is whatever the reloaded state shows.
void settle_batch(BatchResult& result, const std::vector<BatchJob>& jobs, const Status& committed);

}  // namespace anchorcast::overlay
