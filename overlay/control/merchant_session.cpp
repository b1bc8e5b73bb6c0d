#include "overlay/control/merchant_session.hpp"

#include <chrono>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "anchorcast/core/log.hpp"
#include "anchorcast/overlay/control_plane.hpp"
#include "overlay/control/command.hpp"
#include "overlay/control/rate_limiter.hpp"

namespace anchorcast {

namespace {

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

struct MerchantSession::Impl : std::enable_shared_from_this<MerchantSession::Impl> {
  Impl(ControlPlane& control, std::string stream_id, std::string remote, MerchantSocket socket)
      : control(control),
        stream_id(std::move(stream_id)),
        remote(std::move(remote)),
        socket(std::move(socket)),
        limiter(control.rate_limit_per_s()) {}

  struct Link : MerchantLink {
    explicit Link(std::weak_ptr<Impl> session) : session(std::move(session)) {}
    void deliver(std::string message) override {
      if (auto s = session.lock()) s->receive(Arrival{std::nullopt, std::move(message)});
    }
    std::weak_ptr<Impl> session;
  };

  // A reply to slot `slot`, or (no slot) an event for the merchant, from another thread.
  struct Arrival {
    std::optional<uint64_t> slot;
    std::string text;
  };

  // A command that passed parsing and the rate limit. They reach the control plane in
  // arrival order, so one still decoding its image holds back the ones behind it.
  struct Submission {
    enum class State { ready, decoding, refused };
    uint64_t slot = 0;
    control::Command command;
    State state = State::ready;
    std::string refusal;
  };

  void open();
  void on_frame(Frame kind, std::string bytes);
  void close();
  void decoded(uint64_t slot, const Status& status);
  void submit_ready();
  void submit(uint64_t slot, control::Command command);
  void fill(uint64_t slot, std::string reply);
  void send(std::string message);
  void receive(Arrival arrival);
  void take_arrivals();

  ControlPlane& control;
  const std::string stream_id;
  const std::string remote;
  const MerchantSocket socket;
  control::RateLimiter limiter;
  std::shared_ptr<Link> link;
  std::deque<std::optional<std::string>> pending;  // reply slots, the oldest first
  uint64_t first_slot = 0;
  std::deque<Submission> submissions;
  bool paused = false;
  bool closed = false;

  // Replies and events from the writer and output threads wait here in arrival order; the
  // first one posts one task to the socket's thread, which takes them all. A batch of
  // replies is one post, not one per command.
  std::mutex arrivals_mutex;
  std::vector<Arrival> arrivals;  // guarded by arrivals_mutex
  bool arrivals_posted = false;   // guarded by arrivals_mutex
  std::vector<Arrival> taking;    // socket thread only
};

void MerchantSession::Impl::open() {
  if (closed || link) return;
  log::info("control: ", remote, " opened '", stream_id, "'");
  link = std::make_shared<Link>(weak_from_this());
  send(control.connect(stream_id, link));
}

void MerchantSession::Impl::on_frame(Frame kind, std::string bytes) {
  if (closed) return;
  uint64_t slot = first_slot + pending.size();
  pending.emplace_back();
  if (kind == Frame::binary) {
    fill(slot, error_text(std::nullopt, control::ErrorCode::bad_json,
                          "binary frames are not accepted: send each command as a JSON text frame"));
  } else {
    auto parsed = control::parse_command(bytes);
    if (!parsed.ok()) {
      fill(slot, error_text(parsed.req, parsed.error().code, parsed.error().message));
    } else if (!limiter.allow(steady_ms())) {
      fill(slot, error_text(parsed.req, control::ErrorCode::rate_limited,
                            "more than " + std::to_string(control.rate_limit_per_s()) +
                                " commands per second on this connection; slow down"));
    } else {
      auto image = parsed.command().image;
      if (!image && submissions.empty()) {
        // Nothing ahead of it: straight to the control plane (no queue entry).
        submit(slot, std::move(parsed.command()));
      } else {
        auto state = image ? Submission::State::decoding : Submission::State::ready;
        submissions.push_back(Submission{slot, std::move(parsed.command()), state, {}});
      }
      if (image) {
        // The full decode takes milliseconds: off this thread. The session stays alive
        // until it is back, so a command read is submitted even if the merchant left.
        control.verify_image(std::move(image), [self = shared_from_this(), slot](Status status) {
          self->socket.post([self, slot, status = std::move(status)] { self->decoded(slot, status); });
        });
      }
      submit_ready();
    }
  }
  if (!closed && !paused && pending.size() >= control::kMaxPendingReplies) {
    paused = true;
    socket.pause_reading();
  }
}

void MerchantSession::Impl::decoded(uint64_t slot, const Status& status) {
  for (auto& s : submissions) {
    if (s.slot != slot) continue;
    s.state = Submission::State::ready;
    if (!status) {
      const char* path = s.command.type == control::CommandType::sale_start ? "sale.image: " : "card.image: ";
      std::optional<std::string> req = s.command.req;
      s.refusal = error_text(req, control::ErrorCode::invalid, path + status.error().message);
      s.state = Submission::State::refused;
    }
    break;
  }
  submit_ready();
}

void MerchantSession::Impl::submit_ready() {
  while (!submissions.empty() && submissions.front().state != Submission::State::decoding) {
    Submission s = std::move(submissions.front());
    submissions.pop_front();
    if (s.state == Submission::State::refused) {
      fill(s.slot, std::move(s.refusal));
      continue;
    }
    submit(s.slot, std::move(s.command));
  }
}

void MerchantSession::Impl::submit(uint64_t slot, control::Command command) {
  control.submit(stream_id, std::move(command), [weak = weak_from_this(), slot](std::string reply) {
    if (auto self = weak.lock()) self->receive(Arrival{slot, std::move(reply)});
  });
}

// Any thread.
void MerchantSession::Impl::receive(Arrival arrival) {
  {
    std::lock_guard lock(arrivals_mutex);
    arrivals.push_back(std::move(arrival));
    if (arrivals_posted) return;
    arrivals_posted = true;
  }
  socket.post([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->take_arrivals();
  });
}

void MerchantSession::Impl::take_arrivals() {
  {
    std::lock_guard lock(arrivals_mutex);
    taking.swap(arrivals);
    arrivals_posted = false;
  }
  for (auto& a : taking) {
    if (a.slot) fill(*a.slot, std::move(a.text));
    else send(std::move(a.text));
  }
  taking.clear();  // keeps its capacity
}

// Replies leave in command order: a slot waits until every earlier one is filled.
void MerchantSession::Impl::fill(uint64_t slot, std::string reply) {
  if (closed || slot < first_slot || slot - first_slot >= pending.size()) return;
  pending[slot - first_slot] = std::move(reply);
  while (!pending.empty() && pending.front()) {
    std::string next = std::move(*pending.front());
    pending.pop_front();
    ++first_slot;
    send(std::move(next));
    if (closed) return;
  }
  if (paused && pending.size() < control::kMaxPendingReplies / 2) {
    paused = false;
    socket.resume_reading();
  }
}

void MerchantSession::Impl::send(std::string message) {
  if (closed) return;
  if (socket.send(std::move(message)) > control::kMaxQueuedMessages) {
    log::warn("control: ", remote, " on '", stream_id, "' reads nothing; dropped after ", control::kMaxQueuedMessages,
              " queued messages");
    socket.drop();
  }
}

void MerchantSession::Impl::close() {
  if (closed) return;
  closed = true;
  if (link) {
    control.disconnect(stream_id, link.get());
    log::info("control: ", remote, " left '", stream_id, "'");
  }
}

MerchantSession::MerchantSession(ControlPlane& control, std::string stream_id, std::string remote,
                                 MerchantSocket socket)
    : impl_(std::make_shared<Impl>(control, std::move(stream_id), std::move(remote), std::move(socket))) {}

MerchantSession::~MerchantSession() { close(); }

void MerchantSession::open() { impl_->open(); }
void MerchantSession::on_frame(Frame kind, std::string bytes) { impl_->on_frame(kind, std::move(bytes)); }
void MerchantSession::close() { impl_->close(); }

}  // namespace anchorcast
