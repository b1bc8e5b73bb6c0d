#include "relay/egress/webrtc/send_report.hpp"

#include "anchorcast/core/log.hpp"

namespace anchorcast::webrtc {

void SendReport::update() {
  counters_.bytes.add(batch_.bytes_sent() - bytes_);
  bytes_ = batch_.bytes_sent();
  counters_.failures.add(batch_.send_failures() - failures_);
  failures_ = batch_.send_failures();
  counters_.datagrams.add(batch_.datagrams_sent() - datagrams_);
  datagrams_ = batch_.datagrams_sent();
  counters_.messages.add(batch_.messages_sent() - messages_);
  messages_ = batch_.messages_sent();
  if (gso_ && !batch_.gso()) {
    gso_ = false;
    log::warn("webrtc: the route refused a UDP GSO send; one datagram per message from now on");
  }
}

}  // namespace anchorcast::webrtc
