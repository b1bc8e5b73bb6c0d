#include "anchorcast/overlay/control_plane.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "anchorcast/core/log.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/secret.hpp"
#include "anchorcast/hub/hub.hpp"
#include "overlay/command_batch.hpp"
#include "overlay/compositor/compositor.hpp"
#include "overlay/control/command.hpp"
#include "overlay/control/image_decoder.hpp"
#include "overlay/control/image_probe.hpp"
#include "overlay/control/merchant_auth.hpp"
#include "overlay/metadata/metadata_output.hpp"
#include "overlay/offload_thread.hpp"
#include "overlay/state/asset_cache.hpp"
#include "overlay/state/overlay_state.hpp"
#include "overlay/state/overlay_store.hpp"

namespace anchorcast {

using control::Command;
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

  // apply_batch's view of the states; the caller holds state_mutex.
  struct BatchView final : overlay::BatchStates {
    explicit BatchView(Impl& m) : m(m) {}
    void for_each(const std::function<void(const std::string&, OverlayState&)>& visit) override {
      for (auto& [stream, s] : m.states) visit(stream, s.state);
    }
    OverlayState* find_known(const std::string& stream) override {
      return m.tokens.count(stream) ? &m.states[stream].state : nullptr;
    }
    Impl& m;
  };

  // Where a stream's committed scenes go, in this order: the cue on its source rendition,
  // then, on a burn-in stream, its compositor.
  using SceneOutputs = std::vector<std::shared_ptr<metadata::SceneOutput>>;

  void run();
  void broadcast(const std::string& stream, const std::string& message);
  metadata::ScenePtr scene_of(const std::string& stream, int64_t now_ms);  // caller holds state_mutex
  // `applied` for every merchant of `stream`; takes state_mutex (the one callback of the
  // stream's scene outputs).
  metadata::AppliedCallback applied_to(const std::string& stream);
  // Starts the stream's scene outputs: its source's cues and, on a burn-in stream, its
  // compositor. A stream not in the hub gets none (it has no viewers to reach).
  void start_scene_outputs(const std::string& stream);
  SceneOutputs outputs_of(const std::string& stream);  // caller holds state_mutex
  // Takes the stream's scene outputs out; dropping them joins the compositor's thread, so
  // the caller does it outside state_mutex.
  std::unique_ptr<SceneOutputs> take_scene_outputs(const std::string& stream);
  void trim_asset_cache();
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
  // The compositors' images, so their threads never read SQLite (state/asset_cache.hpp).
  overlay::AssetCache asset_cache;
  std::map<std::string, SceneOutputs, std::less<>> outputs;

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
  for (const auto& [stream, s] : m.states) m.asset_cache.load_missing(s.state.records(), *m.store);
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
  for (const auto& id : ids) m.start_scene_outputs(id);
  m.writer = std::thread([this] { impl_->run(); });
}

metadata::ScenePtr ControlPlane::Impl::scene_of(const std::string& stream, int64_t now_ms) {
  auto scene = std::make_shared<metadata::Scene>();
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

metadata::AppliedCallback ControlPlane::Impl::applied_to(const std::string& stream) {
  return [this, stream](uint64_t version, int64_t pts_ms) {
    std::lock_guard lock(state_mutex);
    broadcast(stream, applied_json(version, pts_ms));
  };
}

void ControlPlane::Impl::start_scene_outputs(const std::string& stream) {
  auto source = hub.find(stream);
  if (!source) return;
  auto main = hub.composited(stream);  // null: not a burn-in stream
  SceneOutputs outs;
  // Every change is cued on the source at once. A burn-in stream's viewers watch main by
  // default: there the compositor alone reports `applied`, with the frame that shows it.
  outs.push_back(std::make_shared<metadata::MetadataOutput>(source, main ? nullptr : applied_to(stream)));
  std::shared_ptr<compositor::Compositor> c;
  if (main) {
    c = std::make_shared<compositor::Compositor>(
        source, main, [this](const std::string& id) { return asset_cache.find(id); }, applied_to(stream), metrics);
    outs.push_back(c);
  }
  std::lock_guard lock(state_mutex);
  if (c) {
    auto scene = scene_of(stream, wall_ms());
    asset_cache.load_missing(scene->overlays, *store);  // restored overlays: cached at open already
    c->start(std::move(scene));
  }
  outputs[stream] = std::move(outs);
}

std::unique_ptr<ControlPlane::Impl::SceneOutputs> ControlPlane::Impl::take_scene_outputs(const std::string& stream) {
  std::lock_guard lock(state_mutex);
  auto it = outputs.find(stream);
  if (it == outputs.end()) return nullptr;
  auto outs = std::make_unique<SceneOutputs>(std::move(it->second));
  outputs.erase(it);
  return outs;
}

ControlPlane::Impl::SceneOutputs ControlPlane::Impl::outputs_of(const std::string& stream) {
  auto source = hub.find(stream);
  if (!source) return {};
  if (auto it = outputs.find(stream); it != outputs.end()) return it->second;
  // Not started yet (create_stream adds a stream to the hub before it starts them): its
  // changes reach the source's viewers and apply at once, as on a stream with no compositor.
  return {std::make_shared<metadata::MetadataOutput>(source, applied_to(stream))};
}

void ControlPlane::Impl::trim_asset_cache() {
  if (!asset_cache.over_limit()) return;
  std::set<std::string, std::less<>> shown;
  {
    std::lock_guard lock(state_mutex);
    for (const auto& [stream, s] : states)
      for (const auto& r : s.state.records())
        if (!r.overlay.image.empty()) shown.insert(r.overlay.image);
  }
  asset_cache.keep_only(shown);
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
  std::map<std::string, Impl::SceneOutputs, std::less<>> outputs;
  {
    std::lock_guard lock(impl_->state_mutex);
    outputs.swap(impl_->outputs);
  }
  outputs.clear();
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

    // Apply everything in memory (command_batch.hpp), then one transaction for the whole batch.
    int64_t now = wall_ms();
    std::vector<overlay::BatchJob> jobs;
    jobs.reserve(batch.size());
    for (auto& job : batch) jobs.push_back(overlay::BatchJob{job.stream, std::move(job.command), std::move(job.admin)});
    overlay::BatchResult result;
    {
      std::lock_guard slock(state_mutex);
      BatchView view(*this);
      result = overlay::apply_batch(view, jobs, [this](std::string_view id) { return asset_exists(id); }, now);
      for (const auto& a : result.new_assets) asset_ids.emplace(a.id, a);
      for (const auto& f : result.fired)
        if (f.error) log::warn("control: scheduled ", f.schedule_id, " on '", f.stream, "' failed: ", f.error->message);
    }
    const auto& writes = result.writes;
    Status committed;
    if (!writes.empty()) {
      committed = store->commit(writes);
      commits.add();
      if (committed) asset_cache.add_committed(writes);
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
    overlay::settle_batch(result, jobs, committed);
    // Replies go out, then every change goes to its stream's scene outputs: a cue in the
    // source rendition at once, and on a burn-in stream the compositor, which reports each
    // version (and cues its main rendition) once a frame shows it. Outside state_mutex:
    // the outputs report `applied` through applied_to, which takes it.
    struct Delivery {
      metadata::ScenePtr scene;
      std::vector<uint64_t> versions;
      SceneOutputs outputs;
    };
    std::vector<Delivery> deliveries;
    {
      std::lock_guard slock(state_mutex);
      std::map<std::string, std::vector<uint64_t>> changed;
      for (const auto& f : result.fired) changed[f.stream].push_back(f.version);
      for (size_t i = 0; i < batch.size(); ++i) {
        auto& job = batch[i];
        if (job.done) {
          job.done->set_value(committed);
          continue;
        }
        auto& o = result.outcomes[i];
        if (o.acked()) commands.add();
        else errors.add();
        job.reply(std::move(o.reply));
        if (auto* e = std::get_if<overlay::ScheduledEvent>(&o.event)) broadcast(job.stream, e->json);
        else if (auto* e = std::get_if<overlay::ChangeEvent>(&o.event)) changed[job.stream].push_back(e->version);
      }
      for (auto& [stream, versions] : changed)
        if (auto outs = outputs_of(stream); !outs.empty())
          deliveries.push_back(Delivery{scene_of(stream, now), std::move(versions), std::move(outs)});
    }
    for (auto& d : deliveries) {
      asset_cache.load_missing(d.scene->overlays, *store);  // before a compositor can need them
      for (auto& output : d.outputs) output->set_scene(d.scene, d.versions);
    }
    trim_asset_cache();
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
  if (m.writer.joinable()) m.start_scene_outputs(s.id);
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
  m.take_scene_outputs(id).reset();  // joins its thread, outside state_mutex
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
