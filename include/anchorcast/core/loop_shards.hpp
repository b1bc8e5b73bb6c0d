// A service's share of each data-plane loop, and the dealing of new connections over
// them: round robin, counted per loop. A `Shard` has `EventLoop& loop`, an
// `std::atomic<size_t> count` of the connections it holds, and `close_all()`, which its
// loop runs when it stops. Shards are shared: a stop task, or a task still queued on a
// loop, keeps its shard alive past the service.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "anchorcast/core/event_loop.hpp"

namespace anchorcast {

template <class Shard>
class LoopShards {
 public:
  // Before the shard's loop starts (it registers the stop task).
  void add(std::shared_ptr<Shard> shard) {
    shard->loop.on_stop([shard] { shard->close_all(); });
    shards_.push_back(std::move(shard));
  }

  // Any thread: the next shard, round robin, and its index; null when there is none.
  std::pair<std::shared_ptr<Shard>, size_t> deal() {
    if (shards_.empty()) return {nullptr, 0};
    size_t index = next_.fetch_add(1, std::memory_order_relaxed) % shards_.size();
    return {shards_[index], index};
  }

  // Any thread: what each shard holds.
  std::vector<size_t> counts() const {
    std::vector<size_t> out;
    for (const auto& s : shards_) out.push_back(s->count.load(std::memory_order_relaxed));
    return out;
  }

  const std::shared_ptr<Shard>& operator[](size_t index) const { return shards_[index]; }
  auto begin() const { return shards_.begin(); }
  auto end() const { return shards_.end(); }

 private:
  std::vector<std::shared_ptr<Shard>> shards_;
  std::atomic<size_t> next_{0};
};

}  // namespace anchorcast
