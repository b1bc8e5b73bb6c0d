#include "relay/egress/webrtc/udp_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

namespace anchorcast::webrtc {

bool PeerAddress::operator==(const PeerAddress& other) const {
  if (storage.ss_family != other.storage.ss_family || port() != other.port()) return false;
  auto a = ip_bytes(), b = other.ip_bytes();
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

uint16_t PeerAddress::port() const {
  if (storage.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(storage).sin_port);
  if (storage.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(storage).sin6_port);
  return 0;
}

std::span<const uint8_t> PeerAddress::ip_bytes() const {
  if (storage.ss_family == AF_INET)
    return {reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in&>(storage).sin_addr), 4};
  if (storage.ss_family == AF_INET6)
    return {reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr), 16};
  return {};
}

std::string PeerAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = "?";
  auto ip = ip_bytes();
  if (!ip.empty()) inet_ntop(storage.ss_family, ip.data(), text, sizeof text);
  // Appended piecewise: GCC 12 flags the operator+ chain with -Wrestrict in Release.
  std::string out;
  if (ipv6()) out.push_back('[');
  out.append(text);
  if (ipv6()) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port()));
  return out;
}

size_t PeerAddressHash::operator()(const PeerAddress& a) const {
  size_t h = std::hash<uint16_t>()(a.port());
  for (uint8_t b : a.ip_bytes()) h = h * 131 + b;
  return h;
}

Result<UdpSocket> UdpSocket::bind(const ListenAddress& address) {
  const std::string where = "webrtc.listen " + address.to_string() + ": ";
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    len = sizeof *v6;
  } else {
    return make_error(where + "not an IP address");
  }
  int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(where + std::strerror(errno));
  // Setting the default (0: no segmentation) fails with ENOPROTOOPT where GSO is unknown.
  int no_segmentation = 0;
  const bool gso = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &no_segmentation, sizeof no_segmentation) == 0;
  UdpSocket socket(fd, gso);
  // Many viewers share one socket: deep kernel buffers absorb a keyframe's burst.
  int bytes = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return make_error(where + std::strerror(errno));
  return socket;
}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    gso_supported_ = other.gso_supported_;
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

uint16_t UdpSocket::local_port() const {
  PeerAddress a;
  a.length = sizeof a.storage;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&a.storage), &a.length) != 0) return 0;
  return a.port();
}

ReceiveBatch::ReceiveBatch()
    : storage_(kDatagrams * kDatagramBytes), headers_(std::make_unique<mmsghdr[]>(kDatagrams)) {
  for (size_t i = 0; i < kDatagrams; ++i) {
    iov_[i] = {storage_.data() + i * kDatagramBytes, kDatagramBytes};
    headers_[i] = {};
  }
}

ReceiveBatch::~ReceiveBatch() = default;

size_t ReceiveBatch::receive(const UdpSocket& socket) {
  for (size_t i = 0; i < kDatagrams; ++i) {
    auto& h = headers_[i].msg_hdr;
    h = {};
    h.msg_name = &peers_[i].storage;
    h.msg_namelen = sizeof peers_[i].storage;
    h.msg_iov = &iov_[i];
    h.msg_iovlen = 1;
    headers_[i].msg_len = 0;
  }
  int n = recvmmsg(socket.fd(), headers_.get(), kDatagrams, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  for (int i = 0; i < n; ++i) peers_[i].length = headers_[i].msg_hdr.msg_namelen;
  return static_cast<size_t>(n);
}

std::span<uint8_t> ReceiveBatch::datagram(size_t i) {
  return {storage_.data() + i * kDatagramBytes, headers_[i].msg_len};
}

bool ReceiveBatch::truncated(size_t i) const { return (headers_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }

namespace {
constexpr size_t kControlBytes = CMSG_SPACE(sizeof(uint16_t));  // one UDP_SEGMENT cmsg
}  // namespace

SendBatch::SendBatch(const UdpSocket& socket, bool gso)
    : socket_(socket),
      gso_(gso && socket.gso_supported()),
      storage_(kDatagrams * kSlotBytes),
      headers_(std::make_unique<mmsghdr[]>(kDatagrams)),
      control_(kDatagrams * kControlBytes) {}

SendBatch::~SendBatch() = default;

std::span<uint8_t> SendBatch::slot() {
  if (slots_ == kDatagrams) flush();
  return {storage_.data() + slots_ * kSlotBytes, kSlotBytes};
}

bool SendBatch::extends_last_message(size_t size, const PeerAddress& to) const {
  if (!gso_ || message_count_ == 0) return false;
  const Message& m = messages_[message_count_ - 1];
  return m.first_slot + m.segments == slots_ && m.segments < kMaxSegments && m.last_size == m.segment_size &&
         size <= m.segment_size && m.bytes + size <= kMaxGsoBytes && peers_[message_count_ - 1] == to;
}

void SendBatch::commit(size_t size, const PeerAddress& to) {
  if (size == 0 || size > kSlotBytes) return;
  iov_[slots_] = {storage_.data() + slots_ * kSlotBytes, size};
  if (extends_last_message(size, to)) {
    Message& m = messages_[message_count_ - 1];
    ++m.segments;
    m.last_size = size;
    m.bytes += size;
  } else {
    messages_[message_count_] = Message{slots_, 1, size, size, size};
    peers_[message_count_] = to;
    ++message_count_;
  }
  ++slots_;
}

void SendBatch::send(std::span<const uint8_t> datagram, const PeerAddress& to) {
  auto s = slot();
  if (datagram.size() > s.size()) return;
  std::memcpy(s.data(), datagram.data(), datagram.size());
  commit(datagram.size(), to);
}

size_t SendBatch::send_one_by_one(size_t message) {
  const Message& m = messages_[message];
  size_t refused = 0;
  for (size_t k = 0; k < m.segments; ++k) {
    msghdr h{};
    h.msg_name = &peers_[message].storage;
    h.msg_namelen = peers_[message].length;
    h.msg_iov = &iov_[m.first_slot + k];
    h.msg_iovlen = 1;
    if (sendmsg(socket_.fd(), &h, MSG_DONTWAIT) < 0) {
      ++refused;
      continue;
    }
    bytes_sent_ += iov_[m.first_slot + k].iov_len;
    ++datagrams_sent_;
    ++messages_sent_;
  }
  return refused;
}

size_t SendBatch::flush() {
  for (size_t i = 0; i < message_count_; ++i) {
    const Message& m = messages_[i];
    auto& h = headers_[i].msg_hdr;
    h = {};
    h.msg_name = &peers_[i].storage;
    h.msg_namelen = peers_[i].length;
    h.msg_iov = &iov_[m.first_slot];
    h.msg_iovlen = m.segments;
    if (m.segments > 1) {
      h.msg_control = control_.data() + i * kControlBytes;
      h.msg_controllen = kControlBytes;
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const auto segment_size = static_cast<uint16_t>(m.segment_size);
      std::memcpy(CMSG_DATA(c), &segment_size, sizeof segment_size);
    }
  }
  size_t refused = 0;
  size_t done = 0;
  while (done < message_count_) {
    int n = sendmmsg(socket_.fd(), headers_.get() + done, static_cast<unsigned>(message_count_ - done), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      const Message& m = messages_[done];
      if (m.segments > 1 && (errno == EIO || errno == EINVAL)) {
        // The route cannot segment (a device without checksum offload, an MTU below the
        // segment): the same datagrams one by one, and no GSO from now on.
        gso_ = false;
        refused += send_one_by_one(done);
      } else {
        // EAGAIN (socket buffer full) or an unreachable peer: the datagrams are lost like
        // any UDP loss; NACK and PLI repair them.
        refused += m.segments;
      }
      ++done;
      continue;
    }
    for (size_t k = done; k < done + static_cast<size_t>(n); ++k) {
      bytes_sent_ += messages_[k].bytes;
      datagrams_sent_ += messages_[k].segments;
    }
    messages_sent_ += static_cast<uint64_t>(n);
    done += static_cast<size_t>(n);
  }
  send_failures_ += refused;
  slots_ = 0;
  message_count_ = 0;
  return refused;
}

}  // namespace anchorcast::webrtc
