// A blocking RTMP client for session tests, built only from our own protocol layer:
// ClientHandshake, ChunkWriter, ChunkReader. Timeouts everywhere: a broken server fails
// the test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "relay/protocol/rtmp/chunk_reader.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"
#include "relay/protocol/rtmp/handshake.hpp"
#include "relay/protocol/rtmp/messages.hpp"

namespace anchorcast::rtmp::test {

class TestClient {
 public:
  ~TestClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool connect_tcp(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }

  bool handshake() {
    ClientHandshake hs(99);
    if (!send_raw(hs.start())) return false;
    std::vector<uint8_t> c2;
    while (!hs.done()) {
      auto bytes = recv_some(2000);
      if (bytes.empty()) return false;
      auto used = hs.consume(bytes, c2);
      if (!used) return false;
      pending_.insert(pending_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(*used), bytes.end());
    }
    return send_raw(c2);
  }

  bool connect_rtmp(uint16_t port, const std::string& app = "live") {
    if (!connect_tcp(port) || !handshake()) return false;
    send(make_command(0, "connect", 1,
                      Amf0Value::make_object({{"app", Amf0Value::make_string(app)},
                                              {"tcUrl", Amf0Value::make_string("rtmp://127.0.0.1/" + app)}})));
    auto reply = wait_command("_result");
    return reply && reply->args.size() == 1 &&
           reply->args[0].get_string("code") == "NetConnection.Connect.Success";
  }

  bool create_stream() {
    send(make_command(0, "createStream", 2, Amf0Value::make_null()));
    auto reply = wait_command("_result");
    return reply && !reply->args.empty() && reply->args[0].number == 1;
  }

  // Returns the onStatus code the server answers with ("" on timeout).
  std::string publish(const std::string& key) {
    Amf0Value args[2] = {Amf0Value::make_string(key), Amf0Value::make_string("live")};
    send(make_command(1, "publish", 3, Amf0Value::make_null(), args));
    auto status = wait_command("onStatus");
    return status && !status->args.empty() ? std::string(status->args[0].get_string("code").value_or("")) : "";
  }

  std::string play(const std::string& name) {
    Amf0Value args[1] = {Amf0Value::make_string(name)};
    send(make_command(1, "play", 4, Amf0Value::make_null(), args));
    for (;;) {
      auto status = wait_command("onStatus");
      if (!status || status->args.empty()) return "";
      std::string code(status->args[0].get_string("code").value_or(""));
      if (code != "NetStream.Play.Reset") return code;
    }
  }

  void send(const Message& m) {
    std::vector<uint8_t> out;
    writer_.append(m, out);
    send_raw(out);
  }

  void set_chunk_size(uint32_t size) {
    send(make_set_chunk_size(size));
    writer_.set_chunk_size(size);
  }

  bool send_raw(std::span<const uint8_t> bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // The next message matching `pred`, skipping others (kept in `seen`).
  std::optional<Message> wait_for(const std::function<bool(const Message&)>& pred, int timeout_ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      while (next_ < inbox_.size()) {
        Message& m = inbox_[next_++];
        seen.push_back(m);
        if (pred(m)) return m;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      if (!pending_.empty()) {
        std::vector<uint8_t> bytes;
        bytes.swap(pending_);
        if (!reader_.feed(bytes, inbox_)) return std::nullopt;
        continue;
      }
      auto bytes = recv_some(static_cast<int>(left.count()));
      if (bytes.empty()) return std::nullopt;
      if (!reader_.feed(bytes, inbox_)) return std::nullopt;
    }
  }

  std::optional<Command> wait_command(const std::string& name, int timeout_ms = 3000) {
    std::optional<Command> found;
    auto m = wait_for(
        [&](const Message& msg) {
          if (msg.type_id != msg::kCommandAmf0) return false;
          auto c = parse_command(msg);
          if (!c || c->name != name) return false;
          found = std::move(*c);
          return true;
        },
        timeout_ms);
    return m ? found : std::nullopt;
  }

  // True when the server closes the connection within the timeout.
  bool wait_closed(int timeout_ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      uint8_t buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
  }

  std::vector<Message> seen;  // every message read so far

 private:
  std::vector<uint8_t> recv_some(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return {};
    std::vector<uint8_t> buf(65536);
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) return {};
    buf.resize(static_cast<size_t>(n));
    return buf;
  }

  int fd_ = -1;
  ChunkWriter writer_;
  ChunkReader reader_;
  std::vector<uint8_t> pending_;
  std::vector<Message> inbox_;
  size_t next_ = 0;
};

}  // namespace anchorcast::rtmp::test
