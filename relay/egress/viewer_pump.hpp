// The loop every stream viewer runs (HTTP-FLV, RTMP play, SRT play): pop everything the
// hub queued, mux it into one batch, start one write; when the write completes, go again.
// While a write is in flight, events wait in the hub's bounded queue, which skips a slow
// viewer to the next keyframe: that queue, not a buffer here, is the backpressure.
//
// `Sink` is the protocol's side, called directly (no virtual call per event):
//   bool mux(const MediaEvent&)  appends what the event becomes to the sink's batch;
//                                false: the stream ended (the batch still goes out)
//   bool batch_empty() const
//   void write()                 starts one write of the batch; when it completes the
//                                sink calls written() (an error: the sink closes instead)
//   void end()                   the stream ended and everything muxed is written
// write() and end() may destroy the sink and this pump: nothing runs after either.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "anchorcast/hub/media_event.hpp"
#include "anchorcast/hub/stream.hpp"
#include "relay/egress/clear_and_trim.hpp"

namespace anchorcast {

template <class Sink>
class ViewerPump {
 public:
  explicit ViewerPump(Sink& sink) : sink_(sink) {}

  void attach(std::unique_ptr<Subscription> subscription) { subscription_ = std::move(subscription); }
  void detach() {
    subscription_.reset();
    events_.clear();
  }
  bool attached() const { return subscription_ != nullptr; }

  void pump() {
    if (writing_ || !subscription_) return;
    // The event vector is reused: no allocation per packet once it has grown.
    events_.clear();
    subscription_->pop_all(events_);
    bool end = false;
    for (const auto& e : events_) {
      if (!sink_.mux(e)) {
        end = true;
        break;
      }
    }
    clear_and_trim(events_, kKeptEvents);
    if (sink_.batch_empty()) {
      if (end) sink_.end();
      return;
    }
    writing_ = true;
    ended_ = end;
    sink_.write();
  }

  // The write started by pump() completed. `again` false: the sink pumps on its own
  // schedule (a synchronous write, as SRT's, must not recurse into pump()).
  void written(bool again = true) {
    writing_ = false;
    if (ended_) return sink_.end();
    if (again) pump();
  }

 private:
  static constexpr size_t kKeptEvents = 16;  // a viewer that keeps up pops a few per pass

  Sink& sink_;
  std::unique_ptr<Subscription> subscription_;
  std::vector<MediaEvent> events_;
  bool writing_ = false;
  bool ended_ = false;
};

}  // namespace anchorcast
