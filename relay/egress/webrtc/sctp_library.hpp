// usrsctp, set up once per process by its owner (WebRtcServer) in "no threads" mode:
// every usrsctp call, its timers and its output happen on the WebRTC I/O thread, so an
// association needs no lock of ours. SCTP packets leave through the AF_CONN output
// callback (RFC 8261: SCTP over DTLS), to the association a Route names.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

namespace anchorcast::webrtc {

class SctpAssociation;

class SctpLibrary {
 public:
  using Clock = std::chrono::steady_clock;

  // usrsctp's AF_CONN address of one association. usrsctp may still hold it after the
  // association is gone (an ABORT in flight, a timer), so a route outlives its
  // association: closed routes are freed kRouteGrace later, and output to them is
  // dropped.
  struct Route {
    SctpAssociation* association = nullptr;
    Clock::time_point closed_at{};
  };

  SctpLibrary();  // usrsctp_init_nothreads
  ~SctpLibrary();  // usrsctp_finish, after every association is closed
  SctpLibrary(const SctpLibrary&) = delete;
  SctpLibrary& operator=(const SctpLibrary&) = delete;

  // I/O thread: runs usrsctp's timers (retransmission, heartbeats, SACK delay).
  void advance(Clock::time_point now);

  Route* open_route(SctpAssociation* association);
  void close_route(Route* route, Clock::time_point now);

 private:
  static int output(void* address, void* packet, size_t size, uint8_t tos, uint8_t set_df);
  static constexpr auto kRouteGrace = std::chrono::seconds(60);
  Clock::time_point last_advance_;
  std::vector<std::unique_ptr<Route>> open_;
  std::deque<std::unique_ptr<Route>> closed_;  // in closing order
};

}  // namespace anchorcast::webrtc
