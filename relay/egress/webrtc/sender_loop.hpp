// The WebRTC media senders of one data-plane loop: their ready list and one send batch
// on the shared UDP socket. The loop wakes once for every viewer with packets waiting,
// each sender seals and queues its packets, and the batch leaves in as few sendmmsg
// calls as it fills (a datagram is atomic on a UDP socket, so loops share it safely).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/ready_list.hpp"
#include "relay/egress/webrtc/send_report.hpp"
#include "relay/egress/webrtc/udp_socket.hpp"

namespace anchorcast::webrtc {

class MediaSender;

class SenderLoop final : public ReadyTarget {
 public:
  SenderLoop(EventLoop& loop, const UdpSocket& socket, bool udp_gso, SendCounters& counters);
  ~SenderLoop();
  SenderLoop(const SenderLoop&) = delete;
  SenderLoop& operator=(const SenderLoop&) = delete;

  // Any thread: the sender starts (attaches to its feed) on this loop, or stops there;
  // `sender` lives until its stop has run on the loop.
  void adopt(std::shared_ptr<MediaSender> sender);
  void retire(std::shared_ptr<MediaSender> sender);
  // Any thread, after every sender was retired: waits until the loop ran the retirements
  // and will not run this again (returns at once when the loop has stopped).
  void close();
  size_t senders() const { return senders_.load(std::memory_order_relaxed); }

  // MediaSender, any thread.
  void mark(MediaSender& sender);
  // MediaSender, loop thread.
  void forget(MediaSender& sender);
  SendBatch& batch() { return batch_; }

  void on_ready() override;  // the loop's thread

 private:
  EventLoop& loop_;
  SendBatch batch_;
  SendReport report_;
  ReadyList ready_;
  std::atomic<size_t> senders_{0};
};

}  // namespace anchorcast::webrtc
