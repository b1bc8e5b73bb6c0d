#include "egress/webrtc/udp_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
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
  UdpSocket socket(fd);
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

SendBatch::SendBatch(const UdpSocket& socket)
    : socket_(socket), storage_(kDatagrams * kSlotBytes), headers_(std::make_unique<mmsghdr[]>(kDatagrams)) {}

SendBatch::~SendBatch() = default;

std::span<uint8_t> SendBatch::slot() {
  if (count_ == kDatagrams) flush();
  return {storage_.data() + count_ * kSlotBytes, kSlotBytes};
}

void SendBatch::commit(size_t size, const PeerAddress& to) {
  if (size == 0 || size > kSlotBytes) return;
  iov_[count_] = {storage_.data() + count_ * kSlotBytes, size};
  peers_[count_] = to;
  auto& h = headers_[count_].msg_hdr;
  h = {};
  h.msg_name = &peers_[count_].storage;
  h.msg_namelen = peers_[count_].length;
  h.msg_iov = &iov_[count_];
  h.msg_iovlen = 1;
  ++count_;
}

void SendBatch::send(std::span<const uint8_t> datagram, const PeerAddress& to) {
  auto s = slot();
  if (datagram.size() > s.size()) return;
  std::memcpy(s.data(), datagram.data(), datagram.size());
  commit(datagram.size(), to);
}

size_t SendBatch::flush() {
  size_t refused = 0;
  size_t done = 0;
  while (done < count_) {
    int n = sendmmsg(socket_.fd(), headers_.get() + done, static_cast<unsigned>(count_ - done), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      // EAGAIN (socket buffer full) or an unreachable peer: the datagram is lost like
      // any UDP loss; NACK and PLI repair it.
      ++refused;
      ++done;
      continue;
    }
    for (int i = 0; i < n; ++i) bytes_sent_ += iov_[done + i].iov_len;
    done += static_cast<size_t>(n);
  }
  send_failures_ += refused;
  count_ = 0;
  return refused;
}

}  // namespace anchorcast::webrtc
