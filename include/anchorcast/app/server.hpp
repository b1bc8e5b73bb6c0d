// The composition root: builds the hub from the config, starts the data-plane loop
// (RTMP) and the control-plane HTTP server, and stops them in order.
#pragma once

#include <memory>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/result.hpp"

namespace anchorcast {

class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Binds every listener; the error names the key and port that failed.
  Status start();
  // Stops accepting, ends sessions, flushes state. Safe to call twice.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorcast
