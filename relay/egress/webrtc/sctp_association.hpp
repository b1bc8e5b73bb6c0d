// One SCTP association over a DTLS association (RFC 8261), run by usrsctp through an
// AF_CONN socket: packets from the peer in through receive(), packets out through the
// `send_packet` callback (to DTLS), whole messages out to `on_message`. We connect as
// well as accept (RFC 8841 §9.3: both ends send INIT; SCTP resolves the collision).
// I/O thread only (see sctp_library.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/egress/webrtc/sctp_library.hpp"

struct socket;  // usrsctp's

namespace anchorcast::webrtc {

class SctpAssociation {
 public:
  struct Callbacks {
    std::function<void(std::span<const uint8_t>)> send_packet;  // one SCTP packet, to DTLS
    std::function<void(uint16_t stream, uint32_t ppid, std::span<const uint8_t>)> on_message;
    std::function<void()> on_established;
    std::function<void(uint16_t stream)> on_stream_reset;  // the peer closed a channel
  };

  // One SCTP packet plus its DTLS record overhead must fit DtlsTransport::kMtu (1200):
  // at most 65 bytes with the CBC suite we allow (13 header + 16 IV + 20 MAC + 16
  // padding; AES-GCM adds 37). usrsctp's packets run up to 10 bytes over its path MTU
  // (measured in the unit test), hence the margin.
  static constexpr uint32_t kPathMtu = 1120;
  static constexpr size_t kMaxPacketSize = 1200 - 65;
  static constexpr uint16_t kStreams = 1024;

  static Result<std::unique_ptr<SctpAssociation>> create(SctpLibrary& library, uint16_t local_port,
                                                         uint16_t remote_port, Callbacks callbacks);
  ~SctpAssociation();  // aborts (SO_LINGER 0) and closes the route
  SctpAssociation(const SctpAssociation&) = delete;
  SctpAssociation& operator=(const SctpAssociation&) = delete;

  // Sends our INIT; call once DTLS is connected.
  Status connect();
  // One SCTP packet from DTLS application data (already checked by sctp::check_packet).
  void receive(std::span<const uint8_t> packet);
  // A whole message on `stream`, reliable and ordered. Fails when the association is not
  // up or its send buffer is full.
  Status send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> message);
  // Resets our outgoing half of `stream` (closes a channel, RFC 8831 §6.7). A peer's
  // reset is answered with ours by receive().
  void reset_stream(uint16_t stream);
  bool established() const { return established_; }
  bool closed() const { return closed_; }

 private:
  friend class SctpLibrary;  // output
  friend struct SctpUpcalls;  // receive
  SctpAssociation(SctpLibrary& library, uint16_t remote_port, Callbacks callbacks);
  void on_output(std::span<const uint8_t> packet) { callbacks_.send_packet(packet); }
  void on_notification(std::span<const uint8_t> notification);
  void send_reset(uint16_t stream);

  SctpLibrary& library_;
  SctpLibrary::Route* route_ = nullptr;
  struct socket* socket_ = nullptr;
  uint16_t remote_port_;
  Callbacks callbacks_;
  bool established_ = false;
  bool closed_ = false;
  // Streams the peer reset, whose outgoing half we reset once usrsctp returned.
  std::vector<uint16_t> to_reset_;
  // Streams we reset and whose peer half is not reset yet: the peer's reset of one of
  // them is its answer, not a new close to answer (else the two ends ping-pong).
  std::vector<uint16_t> reset_by_us_;
};

}  // namespace anchorcast::webrtc
