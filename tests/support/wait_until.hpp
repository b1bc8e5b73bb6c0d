// Polls a condition until it holds or the timeout passes: a test that needs time waits
// for state, never for a fixed sleep. True once `done()` held.
#pragma once

#include <chrono>
#include <thread>

namespace anchorcast::test {

template <class Done>
bool wait_until(Done done, std::chrono::milliseconds timeout = std::chrono::seconds(3),
                std::chrono::milliseconds every = std::chrono::milliseconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

}  // namespace anchorcast::test
