// The merchant control channel's WebSocket (Boost.Beast, contract: "Commerce control
// channel"). http_server.cpp hands over the TCP stream and the upgrade request once the
// router has authorised it; from then on a ControlSession only frames: it reads frames
// into a MerchantSession (include/anchorcast/overlay/merchant_session.hpp: replies in
// order, rate limit, images, `applied`), writes what that session sends, and closes with
// 1009 (frame over 1 MiB) or 1001 (shutdown). Only this file and http_server.cpp include Beast.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>

namespace anchorcast {

class ControlPlane;
class ControlSession;

// Every control session of one HttpServer (its io thread only).
class ControlSockets {
 public:
  ControlSockets(boost::asio::io_context& io, ControlPlane& control) : io_(io), control_(control) {}

  void start(boost::beast::tcp_stream&& stream,
             boost::beast::http::request<boost::beast::http::string_body>&& request, std::string stream_id,
             std::string remote);
  // Sends every merchant a close frame 1001 "server shutting down"; `done` runs once
  // every session has ended (at once when there are none).
  void close_all(std::function<void()> done);
  size_t size() const { return sessions_.size(); }

 private:
  friend class ControlSession;
  void ended(const std::shared_ptr<ControlSession>& session);

  boost::asio::io_context& io_;
  ControlPlane& control_;
  std::set<std::shared_ptr<ControlSession>> sessions_;
  std::function<void()> on_empty_;
};

}  // namespace anchorcast
