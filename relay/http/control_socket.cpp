#include "relay/http/control_socket.hpp"

#include <boost/asio.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <optional>

#include "anchorcast/core/log.hpp"
#include "anchorcast/overlay/merchant_session.hpp"

namespace anchorcast {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

constexpr size_t kMaxFrameBytes = 1 << 20;  // contract: a frame over 1 MiB closes with 1009

}  // namespace

class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(beast::tcp_stream&& stream, ControlSockets& owner, std::string stream_id, std::string remote)
      : ws_(std::move(stream)), owner_(owner), stream_id_(std::move(stream_id)), remote_(std::move(remote)) {}

  void start(http::request<http::string_body>&& request) {
    merchant_.emplace(owner_.control_, stream_id_, remote_, merchant_socket());
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "anchorcast/" ANCHORCAST_VERSION); }));
    ws_.read_message_max(kMaxFrameBytes);
    auto req = std::make_shared<http::request<http::string_body>>(std::move(request));
    ws_.async_accept(*req, [self = shared_from_this(), req](beast::error_code ec) { self->on_accept(ec); });
  }

  void shut_down() {
    if (closing_ || finished_) return;
    closing_ = true;
    ws_.async_close(websocket::close_reason(websocket::close_code::going_away, "server shutting down"),
                    [self = shared_from_this()](beast::error_code) { self->finish(); });
  }

 private:
  // The merchant session's view of this socket; weak: the session must not keep it alive.
  MerchantSocket merchant_socket() {
    std::weak_ptr<ControlSession> weak = weak_from_this();
    MerchantSocket s;
    s.send = [weak](std::string message) -> size_t {
      auto self = weak.lock();
      return self ? self->send(std::move(message)) : 0;
    };
    s.post = [&io = owner_.io_](std::function<void()> task) { asio::post(io, std::move(task)); };
    s.pause_reading = [weak] {
      if (auto self = weak.lock()) self->paused_ = true;
    };
    s.resume_reading = [weak] {
      if (auto self = weak.lock()) {
        self->paused_ = false;
        self->read();
      }
    };
    s.drop = [weak] {
      if (auto self = weak.lock()) self->finish();
    };
    return s;
  }

  void on_accept(beast::error_code ec) {
    if (ec) return finish();
    merchant_->open();
    read();
  }

  void read() {
    if (reading_ || paused_ || finished_ || closing_) return;
    reading_ = true;
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    reading_ = false;
    if (ec) {
      if (ec == websocket::error::message_too_big)
        log::info("control: ", remote_, " sent a frame over 1 MiB on '", stream_id_, "' (closed with 1009)");
      else if (ec != websocket::error::closed && ec != asio::error::operation_aborted && ec != asio::error::eof)
        log::info("control: ", remote_, " on '", stream_id_, "': ", ec.message());
      return finish();
    }
    std::string bytes = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    merchant_->on_frame(ws_.got_text() ? MerchantSession::Frame::text : MerchantSession::Frame::binary,
                        std::move(bytes));
    read();
  }

  size_t send(std::string message) {
    if (finished_ || closing_) return 0;
    out_.push_back(std::move(message));
    if (!writing_) write_next();
    return out_.size();
  }

  void write_next() {
    if (out_.empty() || finished_ || closing_) return;
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(out_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      self->out_.pop_front();
      if (ec) return self->finish();
      self->write_next();
    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    merchant_->close();
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
    owner_.ended(shared_from_this());
  }

  websocket::stream<beast::tcp_stream> ws_;
  ControlSockets& owner_;
  std::string stream_id_;
  std::string remote_;
  std::optional<MerchantSession> merchant_;  // set in start(): it needs weak_from_this()
  beast::flat_buffer buffer_;
  std::deque<std::string> out_;
  bool reading_ = false;
  bool paused_ = false;  // by the merchant session: too many replies wait for a commit
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

void ControlSockets::start(beast::tcp_stream&& stream, http::request<http::string_body>&& request,
                           std::string stream_id, std::string remote) {
  stream.expires_never();  // the websocket stream runs its own timeouts
  // Replies are small frames sent one by one: Nagle + the peer's delayed ACK would hold
  // each for up to 40 ms.
  beast::error_code ec;
  stream.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  auto session = std::make_shared<ControlSession>(std::move(stream), *this, std::move(stream_id), std::move(remote));
  sessions_.insert(session);
  session->start(std::move(request));
}

void ControlSockets::close_all(std::function<void()> done) {
  if (sessions_.empty()) return done();
  on_empty_ = std::move(done);
  auto sessions = sessions_;
  for (auto& s : sessions) s->shut_down();
}

void ControlSockets::ended(const std::shared_ptr<ControlSession>& session) {
  sessions_.erase(session);
  if (sessions_.empty() && on_empty_) {
    auto done = std::move(on_empty_);
    on_empty_ = nullptr;
    done();
  }
}

}  // namespace anchorcast
