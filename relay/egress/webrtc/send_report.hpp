// The server's UDP send counters, and what one SendBatch adds to them. Every batch on
// the shared socket (the UDP thread's, each loop's) has a SendReport and calls update()
// after it flushed: the counters get what it sent since, and the route refusing GSO is
// logged once for that batch.
#pragma once

#include <cstdint>

#include "anchorcast/core/metrics.hpp"
#include "relay/egress/webrtc/udp_socket.hpp"

namespace anchorcast::webrtc {

// Registered once by the server, shared by every batch's report.
struct SendCounters {
  Counter& bytes;
  Counter& failures;
  Counter& datagrams;
  Counter& messages;
};

class SendReport {
 public:
  SendReport(SendCounters& counters, const SendBatch& batch) : counters_(counters), batch_(batch), gso_(batch.gso()) {}
  void update();

 private:
  SendCounters& counters_;
  const SendBatch& batch_;
  bool gso_;
  uint64_t bytes_ = 0, failures_ = 0, datagrams_ = 0, messages_ = 0;
};

}  // namespace anchorcast::webrtc
