// The one UDP socket of WebRTC egress and its batches: recvmmsg in, sendmmsg out. The
// batches own fixed buffers made once, so a datagram costs no allocation. Where the
// kernel has UDP GSO (Linux 4.18+), consecutive datagrams to one peer that have the same
// size (a video frame's FU-A run) leave as one message the kernel segments late: one
// trip down the stack instead of one per datagram.
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
  UdpSocket(UdpSocket&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), gso_supported_(other.gso_supported_) {}
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  ~UdpSocket();

  int fd() const { return fd_; }
  uint16_t local_port() const;
  // The kernel takes UDP_SEGMENT on this socket (probed at bind).
  bool gso_supported() const { return gso_supported_; }

 private:
  UdpSocket(int fd, bool gso_supported) : fd_(fd), gso_supported_(gso_supported) {}
  int fd_ = -1;
  bool gso_supported_ = false;
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
  static constexpr size_t kMaxSegments = 64;  // UDP_MAX_SEGMENTS of older kernels
  static constexpr size_t kMaxGsoBytes = 60000;  // under the 64 KiB datagram limit

  // `gso`: coalesce runs of equal-sized datagrams to one peer, when the socket allows.
  explicit SendBatch(const UdpSocket& socket, bool gso = true);
  ~SendBatch();
  // A slot to write one datagram into; flushes first when every slot is taken.
  std::span<uint8_t> slot();
  // The datagram in the slot just returned by slot() is `size` bytes, to `to`.
  void commit(size_t size, const PeerAddress& to);
  // Copies and queues a datagram (signalling: STUN, DTLS).
  void send(std::span<const uint8_t> datagram, const PeerAddress& to);
  // sendmmsg everything queued. Returns datagrams the kernel refused (buffer full).
  size_t flush();

  bool gso() const { return gso_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t datagrams_sent() const { return datagrams_sent_; }
  uint64_t messages_sent() const { return messages_sent_; }  // < datagrams_sent with GSO
  uint64_t send_failures() const { return send_failures_; }

 private:
  // One sendmmsg entry: `segments` consecutive slots to one peer. With more than one,
  // every segment but the last is `segment_size` bytes and the last is not larger —
  // the shape UDP_SEGMENT cuts.
  struct Message {
    size_t first_slot = 0;
    size_t segments = 0;
    size_t segment_size = 0;
    size_t last_size = 0;
    size_t bytes = 0;
  };
  bool extends_last_message(size_t size, const PeerAddress& to) const;
  size_t send_one_by_one(size_t message);

  const UdpSocket& socket_;
  bool gso_;
  std::vector<uint8_t> storage_;
  std::unique_ptr<mmsghdr[]> headers_;
  std::array<iovec, kDatagrams> iov_{};
  std::array<Message, kDatagrams> messages_{};
  std::array<PeerAddress, kDatagrams> peers_{};  // per message
  std::vector<uint8_t> control_;                 // a UDP_SEGMENT cmsg per message
  size_t slots_ = 0;
  size_t message_count_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t datagrams_sent_ = 0;
  uint64_t messages_sent_ = 0;
  uint64_t send_failures_ = 0;
};

}  // namespace anchorcast::webrtc
