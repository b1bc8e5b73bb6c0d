#include "relay/http/control_socket.hpp"

#include <boost/asio.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>

#include "anchorcast/core/log.hpp"
#include "anchorcast/overlay/control_plane.hpp"
#include "overlay/control/command.hpp"
#include "overlay/control/image_decoder.hpp"
#include "overlay/control/rate_limiter.hpp"

namespace anchorcast {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

constexpr size_t kMaxFrameBytes = 1 << 20;  // contract: a frame over 1 MiB closes with 1009
// Replies waiting for earlier ones: past this the session stops reading until the
// writer catches up (a client that never reads cannot grow our memory).
constexpr size_t kMaxPendingReplies = 4096;
// Messages queued for a merchant that does not read its socket: past this it is dropped
// (its `applied` events would otherwise grow without bound).
constexpr size_t kMaxQueuedMessages = 16384;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string error_text(const std::optional<std::string>& req, control::ErrorCode code, const std::string& message) {
  nlohmann::json j = {{"type", "error"}, {"req", req ? nlohmann::json(*req) : nlohmann::json(nullptr)},
                      {"code", control::error_code_name(code)}, {"message", message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(beast::tcp_stream&& stream, ControlSockets& owner, std::string stream_id, std::string remote)
      : ws_(std::move(stream)),
        owner_(owner),
        stream_id_(std::move(stream_id)),
        remote_(std::move(remote)),
        limiter_(owner.control_.rate_limit_per_s()) {}

  void start(http::request<http::string_body>&& request) {
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
  struct Link : MerchantLink {
    Link(asio::io_context& io, std::weak_ptr<ControlSession> s) : io(io), session(std::move(s)) {}
    void deliver(std::string message) override {
      asio::post(io, [w = session, m = std::move(message)]() mutable {
        if (auto s = w.lock()) s->send(std::move(m));
      });
    }
    asio::io_context& io;
    std::weak_ptr<ControlSession> session;
  };

  void on_accept(beast::error_code ec) {
    if (ec) return finish();
    log::info("control: ", remote_, " opened '", stream_id_, "'");
    link_ = std::make_shared<Link>(owner_.io_, weak_from_this());
    send(owner_.control_.connect(stream_id_, link_));
    read();
  }

  void read() {
    if (reading_ || finished_ || closing_) return;
    if (pending_.size() >= kMaxPendingReplies) return;  // resumed by fill()
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
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    uint64_t slot = first_slot_ + pending_.size();
    pending_.emplace_back();
    if (!ws_.got_text()) {
      fill(slot, error_text(std::nullopt, control::ErrorCode::bad_json,
                            "binary frames are not accepted: send each command as a JSON text frame"));
    } else {
      auto parsed = control::parse_command(text);
      if (!parsed.ok()) {
        fill(slot, error_text(parsed.req, parsed.error().code, parsed.error().message));
      } else if (!limiter_.allow(steady_ms())) {
        fill(slot, error_text(parsed.req, control::ErrorCode::rate_limited,
                              "more than " + std::to_string(owner_.control_.rate_limit_per_s()) +
                                  " commands per second on this connection; slow down"));
      } else if (auto decoded = parsed.command().image ? control::verify_image_decodes(*parsed.command().image) : Status{};
                 !decoded) {
        const char* path = parsed.command().type == control::CommandType::sale_start ? "sale.image: " : "card.image: ";
        fill(slot, error_text(parsed.req, control::ErrorCode::invalid, path + decoded.error().message));
      } else {
        std::weak_ptr<ControlSession> weak = weak_from_this();
        asio::io_context& io = owner_.io_;
        owner_.control_.submit(stream_id_, std::move(parsed.command()), [weak, slot, &io](std::string reply) {
          asio::post(io, [weak, slot, r = std::move(reply)]() mutable {
            if (auto s = weak.lock()) s->fill(slot, std::move(r));
          });
        });
      }
    }
    read();
  }

  // Replies leave in command order: a slot waits until every earlier one is filled.
  void fill(uint64_t slot, std::string reply) {
    if (slot < first_slot_ || slot - first_slot_ >= pending_.size()) return;
    pending_[slot - first_slot_] = std::move(reply);
    while (!pending_.empty() && pending_.front()) {
      send(std::move(*pending_.front()));
      pending_.pop_front();
      ++first_slot_;
    }
    if (!reading_ && pending_.size() < kMaxPendingReplies / 2) read();
  }

  void send(std::string message) {
    if (finished_ || closing_) return;
    if (out_.size() >= kMaxQueuedMessages) {
      log::warn("control: ", remote_, " on '", stream_id_, "' reads nothing; dropped after ",
                kMaxQueuedMessages, " queued messages");
      return finish();
    }
    out_.push_back(std::move(message));
    if (!writing_) write_next();
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
    if (link_) {
      owner_.control_.disconnect(stream_id_, link_.get());
      log::info("control: ", remote_, " left '", stream_id_, "'");
    }
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
    owner_.ended(shared_from_this());
  }

  websocket::stream<beast::tcp_stream> ws_;
  ControlSockets& owner_;
  std::string stream_id_;
  std::string remote_;
  control::RateLimiter limiter_;
  std::shared_ptr<Link> link_;
  beast::flat_buffer buffer_;
  std::deque<std::optional<std::string>> pending_;
  uint64_t first_slot_ = 0;
  std::deque<std::string> out_;
  bool reading_ = false;
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
