#include "relay/egress/webrtc/sctp_library.hpp"

#include <usrsctp.h>

#include <algorithm>
#include <thread>

#include "anchorcast/core/log.hpp"
#include "relay/egress/webrtc/sctp_association.hpp"

namespace anchorcast::webrtc {

SctpLibrary::SctpLibrary() : last_advance_(Clock::now()) {
  // Port 0: no UDP encapsulation socket; packets only leave through `output` (AF_CONN).
  usrsctp_init_nothreads(0, &SctpLibrary::output, nullptr);
  // RFC 8831 §6.2: no ECN over DTLS; WebRTC peers do not expect it.
  usrsctp_sysctl_set_sctp_ecn_enable(0);
  // Streams a peer may open without a reconfiguration (DTLS client even, server odd).
  usrsctp_sysctl_set_sctp_nr_outgoing_streams_default(SctpAssociation::kStreams);
}

SctpLibrary::~SctpLibrary() {
  // Sockets are closed by then; usrsctp frees their PCBs on its timers.
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (usrsctp_finish() == 0) return;
    usrsctp_handle_timers(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  log::warn("webrtc: usrsctp did not finish (associations still open at exit)");
}

int SctpLibrary::output(void* address, void* packet, size_t size, uint8_t, uint8_t) {
  auto* route = static_cast<Route*>(address);
  if (route && route->association)
    route->association->on_output(std::span(static_cast<const uint8_t*>(packet), size));
  return 0;
}

void SctpLibrary::advance(Clock::time_point now) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_advance_);
  if (elapsed.count() <= 0) return;
  last_advance_ = now;
  usrsctp_handle_timers(static_cast<uint32_t>(elapsed.count()));
  while (!closed_.empty() && now - closed_.front()->closed_at >= kRouteGrace) closed_.pop_front();
}

SctpLibrary::Route* SctpLibrary::open_route(SctpAssociation* association) {
  auto route = std::make_unique<Route>();
  route->association = association;
  open_.push_back(std::move(route));
  return open_.back().get();
}

void SctpLibrary::close_route(Route* route, Clock::time_point now) {
  auto it = std::find_if(open_.begin(), open_.end(), [&](const auto& r) { return r.get() == route; });
  if (it == open_.end()) return;
  (*it)->association = nullptr;
  (*it)->closed_at = now;
  closed_.push_back(std::move(*it));
  open_.erase(it);
}

}  // namespace anchorcast::webrtc
