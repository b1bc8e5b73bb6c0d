// Clears a per-viewer vector and, when a burst (the GOP replayed at join, a catch-up after
// a stall) grew it past `keep` elements, gives the memory back: one allocation per burst,
// none in steady state, and thousands of viewers do not each keep their largest burst.
#pragma once

#include <cstddef>
#include <vector>

namespace anchorcast {

template <class T>
void clear_and_trim(std::vector<T>& v, size_t keep) {
  v.clear();
  if (v.capacity() <= keep) return;
  std::vector<T> small;
  small.reserve(keep);
  v.swap(small);
}

}  // namespace anchorcast
