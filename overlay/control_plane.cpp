#include "anchorcast/overlay/control_plane.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "anchorcast/core/log.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/secret.hpp"
#include "anchorcast/hub/hub.hpp"
#include "overlay/compositor/compositor.hpp"
#include "overlay/control/command.hpp"
#include "overlay/control/image_decoder.hpp"
#include "overlay/control/image_probe.hpp"
#include "overlay/control/merchant_auth.hpp"
#include "overlay/offload_thread.hpp"
#include "overlay/state/overlay_state.hpp"
#include "overlay/state/overlay_store.hpp"

namespace anchorcast {

using control::Command;
using control::CommandError;
using nlohmann::json;
using overlay::Change;
using overlay::OverlayState;
using overlay::StoreOp;
using overlay::StoreWrite;

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string applied_json(uint64_t version, int64_t pts_ms) {
  return R"({"type":"applied","version":)" + std::to_string(version) + R"(,"pts_ms":)" + std::to_string(pts_ms) + "}";
}

std::string error_reply(const std::string& req, const CommandError& e) {
  return json{{"type", "error"}, {"req", req}, {"code", control::error_code_name(e.code)}, {"message", e.message}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

struct ControlPlane::Impl {
  Impl(Hub& hub, Metrics& metrics, const Config& config)
      : hub(hub),
        config(config),
        commands(metrics.counter("anchorcast_control_commands_total", "Merchant commands acknowledged (durable)")),
        errors(metrics.counter("anchorcast_control_errors_total", "Merchant commands refused with an error")),
        commits(metrics.counter("anchorcast_control_commits_total", "Control-plane SQLite transactions (group commits)")),
        metrics(metrics) {}

  struct Job {
    std::string stream;
    std::optional<Command> command;  // merchant command
    std::function<void(std::string)> reply;
    std::optional<StoreWrite> admin;  // admin write, no state change
    std::promise<Status>* done = nullptr;
  };

  struct StreamState {
    OverlayState state;
    std::vector<std::shared_ptr<MerchantLink>> links;
  };

  void run();
  void broadcast(const std::string& stream, const std::string& message);
  // Burn-in streams: the compositor reports `applied` once a frame carries the change.
  compositor::ScenePtr scene_of(const std::string& stream, int64_t now_ms);  // caller holds state_mutex
  void start_compositor(const std::string& stream);
  std::unique_ptr<compositor::Compositor> take_compositor(const std::string& stream);
  bool asset_exists(std::string_view id) const { return asset_ids.count(std::string(id)) > 0; }
  Status submit_admin(StoreWrite write);

  Hub& hub;
  const Config& config;
  Counter& commands;
  Counter& errors;
  Counter& commits;
  Metrics& metrics;
  std::unique_ptr<overlay::OverlayStore> store;

  mutable std::mutex state_mutex;  // states, tokens, assets, stored streams
  std::map<std::string, StreamState, std::less<>> states;
  std::map<std::string, std::vector<std::string>, std::less<>> tokens;
  std::map<std::string, AssetInfo> asset_ids;
  std::vector<StreamConfig> db_streams;
  std::map<std::string, std::unique_ptr<compositor::Compositor>, std::less<>> compositors;

  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::condition_variable idle_cv;
  std::deque<Job> queue;
  size_t in_flight = 0;
  bool stopping = false;
  std::thread writer;
};

ControlPlane::ControlPlane(Hub& hub, Metrics& metrics, const Config& config)
    : impl_(std::make_unique<Impl>(hub, metrics, config)), offload_(std::make_unique<OffloadThread>()) {}

ControlPlane::~ControlPlane() { stop(); }

Status ControlPlane::open() {
  auto& m = *impl_;
  auto store = overlay::OverlayStore::open(m.config.data_dir, m.config.control.fsync);
  if (!store) return store.error();
  m.store = std::move(*store);
  std::lock_guard lock(m.state_mutex);
  for (const auto& s : m.config.streams) m.tokens[s.id] = s.merchant_tokens;
  auto streams = m.store->load_streams();
  if (!streams) return make_error("data_dir: " + streams.error().message);
  for (const auto& [id, doc] : *streams) {
    auto s = parse_stream_config(doc);
    if (!s) {
      log::warn("control: stored stream '", id, "' is unreadable (", s.error().message, "); skipped");
      continue;
    }
    if (m.tokens.count(id)) {
      log::warn("control: stream '", id, "' is in the config and in data_dir; the config wins");
      continue;
    }
    m.tokens[id] = s->merchant_tokens;
    m.db_streams.push_back(std::move(*s));
  }
  auto assets = m.store->list_assets();
  if (!assets) return make_error("data_dir: " + assets.error().message);
  for (auto& a : *assets) m.asset_ids[a.id] = a;
  auto overlays = m.store->load_overlays();
  if (!overlays) return make_error("data_dir: " + overlays.error().message);
  for (auto& [stream, stored] : *overlays) {
    if (!m.tokens.count(stream)) continue;
    m.states[stream].state.restore(stored.version, stored.overlays, stored.scheduled);
  }
  return {};
}

std::vector<StreamConfig> ControlPlane::stored_streams() const {
  std::lock_guard lock(impl_->state_mutex);
  return impl_->db_streams;
}

void ControlPlane::start() {
  auto& m = *impl_;
  if (m.writer.joinable()) return;
  std::vector<std::string> ids;
  {
    std::lock_guard lock(m.state_mutex);
    for (const auto& [id, t] : m.tokens) ids.push_back(id);
  }
  for (const auto& id : ids) m.start_compositor(id);
  m.writer = std::thread([this] { impl_->run(); });
}

compositor::ScenePtr ControlPlane::Impl::scene_of(const std::string& stream, int64_t now_ms) {
  auto scene = std::make_shared<compositor::Scene>();
  auto it = states.find(stream);
  if (it == states.end()) {
    scene->overlays_json = "[]";
    return scene;
  }
  scene->version = it->second.state.version();
  scene->overlays = it->second.state.records();
  scene->overlays_json = it->second.state.overlays_json(now_ms);
  return scene;
}

void ControlPlane::Impl::start_compositor(const std::string& stream) {
  auto main = hub.composited(stream);
  auto source = hub.find(stream);
  if (!main || !source) return;  // not a burn-in stream
  compositor::CompositorHooks hooks;
  hooks.asset_bytes = [this](const std::string& id) -> std::optional<std::string> {
    auto r = store->read_asset(id);
    if (!r || !*r) return std::nullopt;
    return std::move((*r)->second);
  };
  hooks.applied = [this, stream](uint64_t version, int64_t pts_ms) {
    std::lock_guard lock(state_mutex);
    broadcast(stream, applied_json(version, pts_ms));
  };
  auto c = std::make_unique<compositor::Compositor>(source, main, std::move(hooks), metrics);
  std::lock_guard lock(state_mutex);
  c->start(scene_of(stream, wall_ms()));
  compositors[stream] = std::move(c);
}

std::unique_ptr<compositor::Compositor> ControlPlane::Impl::take_compositor(const std::string& stream) {
  std::lock_guard lock(state_mutex);
  auto it = compositors.find(stream);
  if (it == compositors.end()) return nullptr;
  auto c = std::move(it->second);
  compositors.erase(it);
  return c;
}

void ControlPlane::flush() {
  auto& m = *impl_;
  std::unique_lock lock(m.queue_mutex);
  m.idle_cv.wait(lock, [&] { return (m.queue.empty() && m.in_flight == 0) || !m.writer.joinable(); });
}

void ControlPlane::stop() {
  if (offload_) offload_->stop();  // first: its admin operations wait for the writer
  if (!impl_ || !impl_->writer.joinable()) return;
  {
    std::lock_guard lock(impl_->queue_mutex);
    impl_->stopping = true;
  }
  impl_->queue_cv.notify_all();
  impl_->writer.join();
  // Joined outside state_mutex: a compositor thread may be waiting for it to report.
  std::map<std::string, std::unique_ptr<compositor::Compositor>, std::less<>> compositors;
  {
    std::lock_guard lock(impl_->state_mutex);
    compositors.swap(impl_->compositors);
  }
  compositors.clear();
  std::lock_guard lock(impl_->state_mutex);
  for (auto& [id, s] : impl_->states) s.links.clear();
}

bool ControlPlane::merchant_allowed(std::string_view stream, std::string_view token) const {
  std::lock_guard lock(impl_->state_mutex);
  auto it = impl_->tokens.find(stream);
  return it != impl_->tokens.end() && control::token_listed(it->second, token);
}

bool ControlPlane::merchant_allowed(std::string_view stream, const std::optional<std::string>& authorization,
                                    const std::optional<std::string>& query_token) const {
  auto token = control::merchant_token(authorization, query_token);
  return token && merchant_allowed(stream, *token);
}

bool ControlPlane::origin_allowed(const std::optional<std::string>& origin) const {
  return control::origin_allowed(impl_->config.control.allowed_origins, origin);
}

bool ControlPlane::admin_allowed(const std::optional<std::string>& authorization) const {
  if (impl_->config.admin_token.empty() || !authorization) return false;
  auto token = control::bearer_token(*authorization);
  return token && constant_time_equals(*token, impl_->config.admin_token);
}

int ControlPlane::rate_limit_per_s() const { return impl_->config.control.rate_limit_per_s; }

std::string ControlPlane::connect(const std::string& stream, std::shared_ptr<MerchantLink> link) {
  auto& m = *impl_;
  auto s = m.hub.find(stream);
  std::lock_guard lock(m.state_mutex);
  auto& st = m.states[stream];
  st.links.push_back(std::move(link));
  int64_t now = wall_ms();
  return R"({"type":"state","live":)" + std::string(s && s->live() ? "true" : "false") +
         R"(,"version":)" + std::to_string(st.state.version()) + R"(,"overlays":)" + st.state.overlays_json(now) +
         R"(,"scheduled":)" + st.state.scheduled_json() + "}";
}

void ControlPlane::disconnect(const std::string& stream, const MerchantLink* link) {
  std::lock_guard lock(impl_->state_mutex);
  auto it = impl_->states.find(stream);
  if (it == impl_->states.end()) return;
  auto& links = it->second.links;
  links.erase(std::remove_if(links.begin(), links.end(), [&](const auto& l) { return l.get() == link; }), links.end());
}

void ControlPlane::submit(const std::string& stream, Command command, std::function<void(std::string)> reply) {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.queue_mutex);
    m.queue.push_back(Impl::Job{stream, std::move(command), std::move(reply), std::nullopt, nullptr});
  }
  m.queue_cv.notify_one();
}

size_t ControlPlane::overlay_count(std::string_view stream) const {
  std::lock_guard lock(impl_->state_mutex);
  auto it = impl_->states.find(stream);
  return it == impl_->states.end() ? 0 : it->second.state.visible_count(wall_ms());
}

size_t ControlPlane::merchant_count(const std::string& stream) const {
  std::lock_guard lock(impl_->state_mutex);
  auto it = impl_->states.find(stream);
  return it == impl_->states.end() ? 0 : it->second.links.size();
}

void ControlPlane::send_to_merchants(const std::string& stream, const std::string& message) {
  std::lock_guard lock(impl_->state_mutex);
  impl_->broadcast(stream, message);
}

void ControlPlane::Impl::broadcast(const std::string& stream, const std::string& message) {
  // Caller holds state_mutex.
  auto it = states.find(stream);
  if (it == states.end()) return;
  for (const auto& link : it->second.links) link->deliver(message);
}

void ControlPlane::Impl::run() {
  std::vector<Job> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex);
      std::optional<int64_t> next_due;
      {
        std::lock_guard slock(state_mutex);
        for (auto& [id, s] : states)
          if (auto due = s.state.next_due_ms(); due && (!next_due || *due < *next_due)) next_due = due;
      }
      auto ready = [&] { return !queue.empty() || stopping || (next_due && wall_ms() >= *next_due); };
      if (next_due) {
        auto wait_ms = std::max<int64_t>(0, *next_due - wall_ms());
        queue_cv.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(wait_ms, 1000)), ready);
      } else {
        queue_cv.wait(lock, ready);
      }
      if (queue.empty() && stopping) {
        idle_cv.notify_all();
        return;
      }
      batch.assign(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end()));
      queue.clear();
      in_flight = batch.size();
    }

    // Apply everything in memory, then one transaction for the whole batch.
    int64_t now = wall_ms();
    std::vector<StoreWrite> writes;
    struct Outcome {
      std::string reply;
      std::string stream;
      std::string event;  // applied/scheduled event for every merchant of the stream
    };
    std::vector<Outcome> outcomes(batch.size());
    std::vector<std::pair<std::string, std::string>> fired_events;
    {
      std::lock_guard slock(state_mutex);
      auto exists = [this](std::string_view id) { return asset_exists(id); };
      for (auto& [stream, s] : states) {
        for (auto& f : s.state.run_due(now, exists)) {
          if (f.error) log::warn("control: scheduled ", f.scheduled.id, " on '", stream, "' failed: ", f.error->message);
          writes.push_back(StoreWrite{stream, f.change.version, std::move(f.change.ops)});
          fired_events.emplace_back(stream, std::to_string(f.change.version));
        }
      }
      for (size_t i = 0; i < batch.size(); ++i) {
        auto& job = batch[i];
        outcomes[i].stream = job.stream;
        if (job.admin) {
          writes.push_back(std::move(*job.admin));
          continue;
        }
        const Command& cmd = *job.command;
        if (!tokens.count(job.stream)) {
          outcomes[i].reply = error_reply(cmd.req, {control::ErrorCode::not_found, "stream '" + job.stream + "' was deleted"});
          continue;
        }
        auto result = states[job.stream].state.apply(cmd, now, exists);
        if (auto* e = std::get_if<CommandError>(&result)) {
          outcomes[i].reply = error_reply(cmd.req, *e);
          continue;
        }
        auto& change = std::get<Change>(result);
        for (const auto& op : change.ops)
          if (op.kind == StoreOp::Kind::put_asset && op.image)
            asset_ids.emplace(op.id, AssetInfo{op.id, op.image->info.mime, op.image->info.width,
                                               op.image->info.height, static_cast<int64_t>(op.image->bytes.size())});
        json ack = {{"type", "ack"}, {"req", cmd.req}, {"version", change.version}};
        if (!change.schedule_id.empty()) {
          ack["scheduled"] = change.schedule_id;
          outcomes[i].event = json{{"type", "scheduled"}, {"version", change.version}, {"id", change.schedule_id},
                                   {"at_ms", *cmd.at_ms}}.dump();
        } else {
          outcomes[i].event = std::to_string(change.version);  // filled with pts below
        }
        outcomes[i].reply = ack.dump(-1, ' ', false, json::error_handler_t::replace);
        writes.push_back(StoreWrite{job.stream, change.version, std::move(change.ops)});
      }
    }
    Status committed;
    if (!writes.empty()) {
      committed = store->commit(writes);
      commits.add();
      if (!committed) {
        // Memory ran ahead of the database: reload what is durable so the next state
        // and version match what merchants were acked.
        log::error("control: commit failed: ", committed.error().message, "; reloading state from data_dir");
        if (auto stored = store->load_overlays()) {
          std::lock_guard slock(state_mutex);
          for (auto& [stream, s] : states) {
            auto it = stored->find(stream);
            if (it == stored->end()) s.state.restore(0, {}, {});
            else s.state.restore(it->second.version, it->second.overlays, it->second.scheduled);
          }
        }
      }
    }
    // Every change becomes a cue (timed metadata) in the source rendition at once. A
    // burn-in stream's compositor also gets the new scene and reports each version (and
    // cues its main rendition) once a frame shows it; elsewhere the change reaches viewers
    // with the next packet, so it applies at the current output position.
    std::map<std::string, std::vector<uint64_t>> changed;
    auto announce = [&](const std::string& stream, const std::string& version) {
      changed[stream].push_back(std::stoull(version));
    };
    {
      std::lock_guard slock(state_mutex);
      for (auto& [stream, version] : fired_events) announce(stream, version);
      for (size_t i = 0; i < batch.size(); ++i) {
        auto& job = batch[i];
        if (job.done) {
          job.done->set_value(committed);
          continue;
        }
        auto& o = outcomes[i];
        if (!committed && !o.event.empty()) {
          o.reply = error_reply(job.command->req, {control::ErrorCode::invalid, "not stored: " + committed.error().message});
          o.event.clear();
        }
        if (o.event.empty()) errors.add();
        else commands.add();
        job.reply(std::move(o.reply));
        if (o.event.empty()) continue;
        if (o.event.front() == '{') broadcast(o.stream, o.event);
        else announce(o.stream, o.event);
      }
      for (auto& [stream, versions] : changed) {
        auto scene = scene_of(stream, now);
        if (auto source = hub.find(stream)) {
          int64_t pts = source->output_position_ms();
          source->push_cue(std::make_shared<Cue>(Cue{pts, scene->version, compositor::cue_json(*scene, pts)}));
          auto c = compositors.find(stream);
          if (c == compositors.end()) {
            for (uint64_t v : versions) broadcast(stream, applied_json(v, pts));
            continue;
          }
          if (auto at = c->second->set_scene(scene, versions))
            for (uint64_t v : versions) broadcast(stream, applied_json(v, *at));
        }
      }
    }
    batch.clear();
    {
      std::lock_guard lock(queue_mutex);
      in_flight = 0;
    }
    idle_cv.notify_all();
  }
}

Status ControlPlane::Impl::submit_admin(StoreWrite write) {
  std::promise<Status> done;
  auto result = done.get_future();
  {
    std::lock_guard lock(queue_mutex);
    if (!writer.joinable()) return store->commit({write});
    queue.push_back(Job{write.stream, std::nullopt, nullptr, std::move(write), &done});
  }
  queue_cv.notify_one();
  return result.get();
}

Result<std::shared_ptr<Stream>> ControlPlane::create_stream(const StreamConfig& s) {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.state_mutex);
    if (m.tokens.count(s.id)) return make_error("id: stream '" + s.id + "' exists");
  }
  if (auto st = m.hub.add(s.id, s.publish_key, s.overlay == OverlayMode::burn_in); !st) return st.error();
  StoreWrite w{s.id, 0, {StoreOp{StoreOp::Kind::put_stream, s.id, stream_config_to_json(s), 0, nullptr}}};
  if (auto st = m.submit_admin(std::move(w)); !st) {
    m.hub.remove(s.id);
    return st.error();
  }
  {
    std::lock_guard lock(m.state_mutex);
    m.tokens[s.id] = s.merchant_tokens;
    m.db_streams.push_back(s);
  }
  if (m.writer.joinable()) m.start_compositor(s.id);
  return m.hub.find(s.id);
}

Status ControlPlane::delete_stream(const std::string& id) {
  auto& m = *impl_;
  for (const auto& s : m.config.streams)
    if (s.id == id) return make_error("stream '" + id + "' is defined in the config file; edit it there");
  {
    std::lock_guard lock(m.state_mutex);
    if (!m.tokens.count(id)) return make_error("not_found");
  }
  if (auto st = m.submit_admin(StoreWrite{id, 0, {StoreOp{StoreOp::Kind::delete_stream, id, {}, 0, nullptr}}}); !st)
    return st;
  m.hub.remove(id);
  m.take_compositor(id).reset();  // joins its thread, outside state_mutex
  std::lock_guard lock(m.state_mutex);
  m.tokens.erase(id);
  m.states.erase(id);
  m.db_streams.erase(std::remove_if(m.db_streams.begin(), m.db_streams.end(), [&](auto& s) { return s.id == id; }),
                     m.db_streams.end());
  return {};
}

Result<AssetInfo> ControlPlane::add_asset(std::string bytes) {
  auto info = control::probe_image(bytes);
  if (!info) return info.error();
  auto image = std::make_shared<control::DecodedImage>(control::DecodedImage{*info, std::move(bytes)});
  if (auto st = control::verify_image_decodes(*image); !st) return st.error();
  std::string id = control::asset_id_for(image->bytes);
  AssetInfo a{id, info->mime, info->width, info->height, static_cast<int64_t>(image->bytes.size())};
  if (auto st = impl_->submit_admin(StoreWrite{"", 0, {StoreOp{StoreOp::Kind::put_asset, id, {}, 0, image}}}); !st)
    return st.error();
  std::lock_guard lock(impl_->state_mutex);
  impl_->asset_ids[id] = a;
  return a;
}

void ControlPlane::create_stream(StreamConfig stream, std::function<void(Result<std::shared_ptr<Stream>>)> done) {
  offload_->post([this, s = std::move(stream), done = std::move(done)] { done(create_stream(s)); });
}

void ControlPlane::delete_stream(std::string id, std::function<void(Status)> done) {
  offload_->post([this, id = std::move(id), done = std::move(done)] { done(delete_stream(id)); });
}

void ControlPlane::add_asset(std::string bytes, std::function<void(Result<AssetInfo>)> done) {
  offload_->post([this, b = std::move(bytes), done = std::move(done)]() mutable { done(add_asset(std::move(b))); });
}

void ControlPlane::verify_image(std::shared_ptr<const control::DecodedImage> image, std::function<void(Status)> done) {
  offload_->post([image = std::move(image), done = std::move(done)] { done(control::verify_image_decodes(*image)); });
}

std::vector<AssetInfo> ControlPlane::assets() const {
  std::lock_guard lock(impl_->state_mutex);
  std::vector<AssetInfo> out;
  for (const auto& [id, a] : impl_->asset_ids) out.push_back(a);
  return out;
}

std::optional<std::pair<std::string, std::string>> ControlPlane::asset(const std::string& id) const {
  auto r = impl_->store->read_asset(id);
  if (!r) return std::nullopt;
  return *r;
}

}  // namespace anchorcast
