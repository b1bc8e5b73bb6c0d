// One merchant on the control channel (contract: "Commerce control channel") without the
// WebSocket: frames in, replies out in command order (an immediate error never overtakes
// an ack still waiting for its commit), the per-connection rate limit, the image check,
// the `state` message on open, then `applied` and `stats` events. The socket
// (relay/http/control_socket.cpp) only frames. Every method runs on the socket's thread;
// work done on other threads comes back through the socket's `post`.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace anchorcast {

class ControlPlane;

// What a session needs from its socket. Called on the socket's thread, except `post`.
struct MerchantSocket {
  // Queues one text frame; returns how many frames wait in the socket's queue now (0
  // once the socket is closing: the frame is dropped).
  std::function<size_t(std::string)> send;
  std::function<void(std::function<void()>)> post;  // any thread: runs a task on the socket's thread
  std::function<void()> pause_reading;  // read no frame until resume_reading()
  std::function<void()> resume_reading;
  std::function<void()> drop;  // the merchant reads nothing: close the connection now
};

class MerchantSession {
 public:
  enum class Frame { text, binary };

  MerchantSession(ControlPlane& control, std::string stream_id, std::string remote, MerchantSocket socket);
  ~MerchantSession();  // close()
  MerchantSession(const MerchantSession&) = delete;
  MerchantSession& operator=(const MerchantSession&) = delete;

  void open();  // the WebSocket is open: joins the stream, sends `state`
  void on_frame(Frame kind, std::string bytes);
  void close();  // the connection ended: leaves the stream, sends nothing more; idempotent

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace anchorcast
