// HTTP-FLV playback. Once the HTTP server has routed GET /flv/{id}.flv, it hands the
// socket here: the viewer writes the response head itself (no length; the body is FLV
// tags until either side closes), then pumps the stream's events through an FlvMuxer
// with one write in flight. Plain Asio, no Beast. Everything runs on the executor of the
// sockets handed over (the HTTP thread today).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/ready_list.hpp"
#include "anchorcast/hub/stream.hpp"

namespace anchorcast {

class FlvViewer;

// The response head: what Beast wrote for this response before FLV left the HTTP
// session (HTTP/1.1, Connection: close, no Content-Length).
std::string_view flv_response_head();

// Every live HTTP-FLV viewer of one HTTP server.
class FlvViewers {
 public:
  // `egress_bytes`: anchorcast_egress_bytes_total{protocol="flv"}, FLV bytes written.
  // `executor`: where the viewers' sockets live; it runs them when they have media.
  FlvViewers(Counter& egress_bytes, boost::asio::any_io_executor executor);
  ~FlvViewers();
  FlvViewers(const FlvViewers&) = delete;
  FlvViewers& operator=(const FlvViewers&) = delete;

  // `remote` ("address:port") names the viewer in log lines.
  void start(boost::asio::ip::tcp::socket socket, std::string remote, const std::shared_ptr<Stream>& stream);
  // Shutdown: closes every viewer's socket and drops its subscription.
  void close_all();
  size_t size() const { return viewers_.size(); }

 private:
  friend class FlvViewer;
  Counter& egress_bytes_;
  ReadyList ready_;
  std::set<std::shared_ptr<FlvViewer>> viewers_;
};

}  // namespace anchorcast
