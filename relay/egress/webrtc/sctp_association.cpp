#include "relay/egress/webrtc/sctp_association.hpp"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace anchorcast::webrtc {

// usrsctp's receive upcall, with the route as its ulp_info.
struct SctpUpcalls {
  static int receive(struct socket*, union sctp_sockstore, void* data, size_t size, struct sctp_rcvinfo info,
                     int flags, void* ulp_info) {
    // usrsctp hands us `data` (malloc'd) to free, or null when the socket is closing.
    if (!data) return 1;
    auto* route = static_cast<SctpLibrary::Route*>(ulp_info);
    SctpAssociation* self = route ? route->association : nullptr;
    std::span<const uint8_t> bytes(static_cast<const uint8_t*>(data), size);
    if (self) {
      if (flags & MSG_NOTIFICATION)
        self->on_notification(bytes);
      else if (flags & MSG_EOR)
        self->callbacks_.on_message(info.rcv_sid, ntohl(info.rcv_ppid), bytes);
      else
        // A message larger than our receive buffer arrives in parts; a viewer has no
        // reason to send one (it only opens channels), so the parts are passed on
        // marked as PPID 0, which no handler takes.
        self->callbacks_.on_message(info.rcv_sid, 0, bytes);
    }
    std::free(data);
    return 1;
  }
};

namespace {

sockaddr_conn conn_address(SctpLibrary::Route* route, uint16_t port) {
  sockaddr_conn a{};
  a.sconn_family = AF_CONN;
  a.sconn_port = htons(port);
  a.sconn_addr = route;
  return a;
}

template <class T>
bool set_option(struct socket* s, int level, int name, const T& value) {
  return usrsctp_setsockopt(s, level, name, &value, sizeof value) == 0;
}

}  // namespace

SctpAssociation::SctpAssociation(SctpLibrary& library, uint16_t remote_port, Callbacks callbacks)
    : library_(library), remote_port_(remote_port), callbacks_(std::move(callbacks)) {}

Result<std::unique_ptr<SctpAssociation>> SctpAssociation::create(SctpLibrary& library, uint16_t local_port,
                                                                 uint16_t remote_port, Callbacks callbacks) {
  std::unique_ptr<SctpAssociation> a(new SctpAssociation(library, remote_port, std::move(callbacks)));
  a->route_ = library.open_route(a.get());
  usrsctp_register_address(a->route_);
  a->socket_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, &SctpUpcalls::receive, nullptr, 0, a->route_);
  if (!a->socket_) return make_error(std::string("SCTP: usrsctp_socket failed: ") + std::strerror(errno));
  struct socket* s = a->socket_;
  if (usrsctp_set_non_blocking(s, 1) != 0) return make_error("SCTP: cannot make the socket non-blocking");
  // Closing aborts at once: a viewer gone is not worth a graceful SHUTDOWN.
  linger l{1, 0};
  sctp_assoc_value reset{};
  reset.assoc_id = SCTP_ALL_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;  // RFC 8831 §6.7: channels close by stream reset
  sctp_initmsg init{};
  init.sinit_num_ostreams = kStreams;
  init.sinit_max_instreams = kStreams;
  const int on = 1;
  bool ok = set_option(s, SOL_SOCKET, SO_LINGER, l) && set_option(s, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset) &&
            set_option(s, IPPROTO_SCTP, SCTP_NODELAY, on) && set_option(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, on) &&
            set_option(s, IPPROTO_SCTP, SCTP_INITMSG, init);
  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_SHUTDOWN_EVENT}) {
    sctp_event e{};
    e.se_assoc_id = SCTP_ALL_ASSOC;
    e.se_type = type;
    e.se_on = 1;
    ok = ok && set_option(s, IPPROTO_SCTP, SCTP_EVENT, e);
  }
  if (!ok) return make_error(std::string("SCTP: socket options refused: ") + std::strerror(errno));
  sockaddr_conn local = conn_address(a->route_, local_port);
  if (usrsctp_bind(s, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    return make_error(std::string("SCTP: bind failed: ") + std::strerror(errno));
  return a;
}

SctpAssociation::~SctpAssociation() {
  if (socket_) {
    usrsctp_set_ulpinfo(socket_, nullptr);
    usrsctp_close(socket_);  // SO_LINGER 0: an ABORT, sent through our route, still open here
  }
  if (route_) {
    usrsctp_deregister_address(route_);
    library_.close_route(route_, SctpLibrary::Clock::now());
  }
}

Status SctpAssociation::connect() {
  sockaddr_conn remote = conn_address(route_, remote_port_);
  if (usrsctp_connect(socket_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 && errno != EINPROGRESS)
    return make_error(std::string("SCTP: connect failed: ") + std::strerror(errno));
  // One SCTP packet per DTLS record per datagram: no path MTU discovery over DTLS.
  sctp_paddrparams params{};
  std::memcpy(&params.spp_address, &remote, sizeof remote);
  params.spp_flags = SPP_PMTUD_DISABLE;
  params.spp_pathmtu = kPathMtu;
  if (!set_option(socket_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, params))
    return make_error(std::string("SCTP: setting the path MTU failed: ") + std::strerror(errno));
  return {};
}

void SctpAssociation::receive(std::span<const uint8_t> packet) {
  if (closed_) return;
  usrsctp_conninput(route_, packet.data(), packet.size(), 0);
  // RFC 8831 §6.7: a channel closes when both directions of its stream are reset; the
  // peer reset its half, we answer with ours (not from inside usrsctp's upcall).
  for (uint16_t stream : to_reset_) send_reset(stream);
  to_reset_.clear();
}

void SctpAssociation::reset_stream(uint16_t stream) {
  if (closed_ || !established_) return;
  if (std::find(reset_by_us_.begin(), reset_by_us_.end(), stream) != reset_by_us_.end()) return;
  if (reset_by_us_.size() >= kStreams) return;
  reset_by_us_.push_back(stream);
  send_reset(stream);
}

void SctpAssociation::send_reset(uint16_t stream) {
  if (closed_ || !established_) return;
  alignas(sctp_reset_streams) uint8_t buffer[sizeof(sctp_reset_streams) + sizeof(uint16_t)] = {};
  auto* request = reinterpret_cast<sctp_reset_streams*>(buffer);
  request->srs_assoc_id = SCTP_ALL_ASSOC;
  request->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  request->srs_number_streams = 1;
  request->srs_stream_list[0] = stream;
  // Fails when a reset is already in flight: the peer then closes by timeout, harmless.
  (void)usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buffer, sizeof buffer);
}

Status SctpAssociation::send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> message) {
  if (!established_ || closed_) return make_error("SCTP: association not established");
  sctp_sndinfo info{};
  info.snd_sid = stream;
  info.snd_ppid = htonl(ppid);
  info.snd_flags = SCTP_EOR;
  ssize_t n = usrsctp_sendv(socket_, message.data(), message.size(), nullptr, 0, &info, sizeof info,
                            SCTP_SENDV_SNDINFO, 0);
  if (n < 0) return make_error(std::string("SCTP: send failed: ") + std::strerror(errno));
  return {};
}

void SctpAssociation::on_notification(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(sctp_notification::sctp_tlv)) return;
  sctp_notification::sctp_tlv header;
  std::memcpy(&header, bytes.data(), sizeof header);
  if (header.sn_length > bytes.size()) return;
  switch (header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      if (bytes.size() < sizeof(sctp_assoc_change)) return;
      sctp_assoc_change change;
      std::memcpy(&change, bytes.data(), sizeof change);
      if (change.sac_state == SCTP_COMM_UP || change.sac_state == SCTP_RESTART) {
        if (!established_) {
          established_ = true;
          if (callbacks_.on_established) callbacks_.on_established();
        }
      } else if (change.sac_state == SCTP_COMM_LOST || change.sac_state == SCTP_SHUTDOWN_COMP ||
                 change.sac_state == SCTP_CANT_STR_ASSOC) {
        closed_ = true;
      }
      break;
    }
    case SCTP_SHUTDOWN_EVENT:
      closed_ = true;
      break;
    case SCTP_STREAM_RESET_EVENT: {
      if (bytes.size() < sizeof(sctp_stream_reset_event) || header.sn_length < sizeof(sctp_stream_reset_event)) return;
      sctp_stream_reset_event event;
      std::memcpy(&event, bytes.data(), sizeof event);
      if (!(event.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN)) break;
      const size_t count = (header.sn_length - sizeof event) / sizeof(uint16_t);
      for (size_t i = 0; i < count; ++i) {
        uint16_t stream;
        std::memcpy(&stream, bytes.data() + sizeof event + i * sizeof stream, sizeof stream);
        if (auto ours = std::find(reset_by_us_.begin(), reset_by_us_.end(), stream); ours != reset_by_us_.end())
          reset_by_us_.erase(ours);  // the answer to our reset: closed both ways
        else if (to_reset_.size() < kStreams)
          to_reset_.push_back(stream);
        if (callbacks_.on_stream_reset) callbacks_.on_stream_reset(stream);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace anchorcast::webrtc
