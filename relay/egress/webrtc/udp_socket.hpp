// The one UDP socket of WebRTC egress and its batches: recvmmsg in, sendmmsg out. The
// batches own fixed buffers made once, so a datagram costs no allocation.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/result.hpp"

struct mmsghdr;

namespace anchorcast::webrtc {

// A remote transport address, comparable and hashable (the 5-tuple key: our side is the
// one socket).
struct PeerAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  bool operator==(const PeerAddress& other) const;
  uint16_t port() const;
  bool ipv6() const { return storage.ss_family == AF_INET6; }
  // 4 or 16 bytes, network order.
  std::span<const uint8_t> ip_bytes() const;
  std::string to_string() const;  // "1.2.3.4:5678" (logs: addresses are not secrets)
};

struct PeerAddressHash {
  size_t operator()(const PeerAddress& a) const;
};

class UdpSocket {
 public:
  // The error names the key: "webrtc.listen 0.0.0.0:8000: Address already in use".
  static Result<UdpSocket> bind(const ListenAddress& address);
  UdpSocket(UdpSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  ~UdpSocket();

  int fd() const { return fd_; }
  uint16_t local_port() const;

 private:
  explicit UdpSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

class ReceiveBatch {
 public:
  static constexpr size_t kDatagrams = 64;
  static constexpr size_t kDatagramBytes = 2048;  // larger datagrams arrive truncated and are dropped

  ReceiveBatch();
  ~ReceiveBatch();
  // Reads up to kDatagrams without blocking; 0 when none is pending.
  size_t receive(const UdpSocket& socket);
  std::span<uint8_t> datagram(size_t i);
  bool truncated(size_t i) const;
  const PeerAddress& from(size_t i) const { return peers_[i]; }

 private:
  std::vector<uint8_t> storage_;
  std::unique_ptr<mmsghdr[]> headers_;
  std::array<iovec, kDatagrams> iov_{};
  std::array<PeerAddress, kDatagrams> peers_{};
};

class SendBatch {
 public:
  static constexpr size_t kDatagrams = 128;
  static constexpr size_t kSlotBytes = 1600;  // a 1500-byte packet plus the SRTP trailer

  explicit SendBatch(const UdpSocket& socket);
  ~SendBatch();
  // A slot to write one datagram into; flushes first when every slot is taken.
  std::span<uint8_t> slot();
  // The datagram in the slot just returned by slot() is `size` bytes, to `to`.
  void commit(size_t size, const PeerAddress& to);
  // Copies and queues a datagram (signalling: STUN, DTLS).
  void send(std::span<const uint8_t> datagram, const PeerAddress& to);
  // sendmmsg everything queued. Returns datagrams the kernel refused (buffer full).
  size_t flush();
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t send_failures() const { return send_failures_; }

 private:
  const UdpSocket& socket_;
  std::vector<uint8_t> storage_;
  std::unique_ptr<mmsghdr[]> headers_;
  std::array<iovec, kDatagrams> iov_{};
  std::array<PeerAddress, kDatagrams> peers_{};
  size_t count_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t send_failures_ = 0;
};

}  // namespace anchorcast::webrtc
