#include "relay/egress/webrtc/sender_loop.hpp"

#include <future>

#include "relay/egress/webrtc/media_sender.hpp"

namespace anchorcast::webrtc {

SenderLoop::SenderLoop(EventLoop& loop, const UdpSocket& socket, bool udp_gso, SendCounters& counters)
    : loop_(loop),
      batch_(socket, udp_gso),
      report_(counters, batch_),
      ready_([this] { loop_.ready().mark(*this); }) {}

SenderLoop::~SenderLoop() = default;

void SenderLoop::adopt(std::shared_ptr<MediaSender> sender) {
  senders_.fetch_add(1, std::memory_order_relaxed);
  loop_.post([sender = std::move(sender)] { sender->start(); });
}

void SenderLoop::retire(std::shared_ptr<MediaSender> sender) {
  senders_.fetch_sub(1, std::memory_order_relaxed);
  // Not run when the loop has stopped: the sender is then destroyed here, and nothing
  // on that loop runs any more to reach it.
  loop_.post([sender = std::move(sender)] { sender->stop(); });
}

void SenderLoop::close() {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> ran = done->get_future();
  // A task the stopped loop drops destroys the promise: the future is ready then too.
  loop_.post([this, done] {
    loop_.ready().forget(*this);
    batch_.flush();
    done->set_value();
  });
  done.reset();
  ran.wait();
}

void SenderLoop::mark(MediaSender& sender) { ready_.mark(sender); }

void SenderLoop::forget(MediaSender& sender) { ready_.forget(sender); }

void SenderLoop::on_ready() {
  ready_.drain();
  batch_.flush();
  report_.update();
}

}  // namespace anchorcast::webrtc
