#include "overlay/compositor/compositor.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "anchorcast/core/log.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/stream.hpp"
#include "overlay/compositor/av_yuv_frame.hpp"
#include "relay/codec/video_decoder.hpp"
#include "relay/codec/matched_encoder.hpp"
#include "overlay/compositor/layer_animator.hpp"
#include "overlay/metadata/scene_cue.hpp"

namespace anchorcast::compositor {

namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A frame waiting longer than this behind the source is not composited: the compositor
// drops it (the viewer sees one frame less) instead of letting delay pile up.
constexpr auto kMaxLag = std::chrono::milliseconds(150);

}  // namespace

struct Compositor::Worker {
  Worker(Compositor& owner, Metrics& metrics, const std::string& stream_id)
      : owner(owner),
        encoder("compositor '" + stream_id + "'"),
        sprites(owner.images_),
        latency(metrics.histogram("anchorcast_compositor_latency_seconds",
                                  "Source packet in to composited packet out, per video frame",
                                  {0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.033, 0.05, 0.075, 0.1, 0.25, 1},
                                  {{"stream", stream_id}})),
        frames(metrics.counter("anchorcast_compositor_frames_total", "Video frames composited and encoded",
                               {{"stream", stream_id}})),
        dropped(metrics.counter("anchorcast_compositor_dropped_frames_total",
                                "Video frames not composited because the compositor fell behind",
                                {{"stream", stream_id}})),
        errors(metrics.counter("anchorcast_compositor_errors_total",
                               "Packets the compositor could not decode or encode", {{"stream", stream_id}})),
        apply_delay(metrics.histogram("anchorcast_compositor_apply_delay_seconds",
                                      "Merchant change committed to the first composited frame that shows it",
                                      {0.005, 0.01, 0.02, 0.033, 0.05, 0.067, 0.1, 0.15, 0.25, 0.5, 1},
                                      {{"stream", stream_id}})),
        renders(metrics.counter("anchorcast_compositor_card_renders_total",
                                "Cards rendered (once per change and per countdown second)", {{"stream", stream_id}})) {}

  void on_tracks(const TrackSetPtr& tracks, bool new_session);
  void on_video(const PacketPtr& packet, SteadyClock::time_point arrived);
  void on_audio(const PacketPtr& packet);
  void on_source_gone();
  void composite(AVFrame& decoded, SteadyClock::time_point arrived);
  void publish_encoded(SteadyClock::time_point arrived, uint64_t version);
  void publish_tracks();
  void take_scene();

  Compositor& owner;
  codec::VideoDecoder decoder;
  codec::MatchedEncoder encoder;  // main follows the source's size, colour, bitrate, keyframes
  LayerAnimator animator;
  ScenePtr current_scene;
  CardSprites sprites;
  AvFramePtr canvas{av_frame_alloc()};
  std::unique_ptr<StreamPublisher> publisher;
  TrackSetPtr source_tracks;
  uint64_t reported_version = 0;
  int64_t dropped_since_log = 0;
  SteadyClock::time_point last_drop_log{};

  Histogram& latency;
  Counter& frames;
  Counter& dropped;
  Counter& errors;
  Histogram& apply_delay;
  Counter& renders;
  uint64_t renders_seen = 0;
};

Compositor::Compositor(std::shared_ptr<Stream> source, std::shared_ptr<Stream> main, AssetBytes images,
                       metadata::AppliedCallback applied, Metrics& metrics)
    : source_(std::move(source)),
      main_(std::move(main)),
      images_(std::move(images)),
      applied_(std::move(applied)),
      metrics_(metrics) {}

Compositor::~Compositor() { stop(); }

void Compositor::start(ScenePtr initial) {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    pending_scene_ = std::move(initial);
  }
  thread_ = std::thread([this] { run(); });
}

void Compositor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Compositor::set_scene(ScenePtr scene, std::vector<uint64_t> versions) {
  std::optional<int64_t> applied_at;
  {
    std::lock_guard lock(mutex_);
    pending_scene_ = std::move(scene);
    if (active_) {
      auto now = std::chrono::steady_clock::now();
      for (uint64_t v : versions) pending_versions_.push_back(PendingVersion{v, now});
      wakeup_ = true;
    } else if (!versions.empty()) {
      // Nothing on screen to wait for: the change applies where main's timeline is now.
      applied_at = main_->output_position_ms();
      main_->push_cue(metadata::build_cue(*pending_scene_, *applied_at));
    }
  }
  if (!applied_at) {
    wake_.notify_all();
    return;
  }
  if (applied_)
    for (uint64_t v : versions) applied_(v, *applied_at);
}

void Compositor::run() {
  Worker w(*this, metrics_, source_->id());
  w.take_scene();
  SubscribeOptions options;
  options.protocol = ViewerProtocol::internal;
  options.queue_capacity = 512;
  options.notify = [this] {
    {
      std::lock_guard lock(mutex_);
      wakeup_ = true;
    }
    wake_.notify_one();
  };
  auto subscription = source_->subscribe(std::move(options));
  std::vector<MediaEvent> events;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // The timeout keeps countdowns and fades moving when no scene change comes; video
      // frames are what carry them, so it only matters for a stalled source.
      wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return wakeup_ || stopping_; });
      if (stopping_) break;
      wakeup_ = false;
    }
    events.clear();
    subscription->pop_all(events);
    auto arrived = SteadyClock::now();
    w.take_scene();
    for (const auto& e : events) {
      switch (e.type) {
        case MediaEvent::Type::tracks: w.on_tracks(e.tracks, e.new_session); break;
        case MediaEvent::Type::packet:
          if (e.packet->kind == MediaKind::video) w.on_video(e.packet, arrived);
          else w.on_audio(e.packet);
          break;
        case MediaEvent::Type::publisher_gone:
        case MediaEvent::Type::stream_closed: w.on_source_gone(); break;
        case MediaEvent::Type::cue: break;  // the source's cues; main gets its own, frame-exact
      }
    }
  }
  w.on_source_gone();
}

void Compositor::Worker::take_scene() {
  ScenePtr scene;
  {
    std::lock_guard lock(owner.mutex_);
    scene = std::move(owner.pending_scene_);
  }
  if (!scene) return;
  animator.set_scene(scene, wall_ms());
  current_scene = std::move(scene);
}

void Compositor::Worker::on_tracks(const TrackSetPtr& tracks, bool new_session) {
  source_tracks = tracks;
  if (new_session || !publisher) {
    publisher.reset();  // ends the previous session on main, as the anchor's ended on source
    auto p = owner.main_->begin_publish("compositor");
    if (!p) {
      log::warn("compositor '", owner.source_->id(), "': ", p.error().message);
      return;
    }
    publisher = std::move(*p);
  }
  // An HEVC source is decoded the same way; main is H.264 either way, which every player takes.
  if (tracks->video && (tracks->video->codec == Codec::h264 || tracks->video->codec == Codec::hevc)) {
    if (auto st = decoder.open(*tracks->video); !st) {
      log::warn("compositor '", owner.source_->id(), "': ", st.error().message);
      errors.add();
    }
    encoder.set_source(*tracks->video);
    // The encoder opens on the first decoded frame (its size and time base are known
    // then); tracks go out with it, so no viewer sees a main rendition without video.
    if (encoder.is_open()) publish_tracks();
    return;
  } else if (tracks->video) {
    log::warn("compositor '", owner.source_->id(), "': ", codec_name(tracks->video->codec),
              " video cannot be composited; the main rendition carries audio only");
  }
  publish_tracks();
}

void Compositor::Worker::publish_tracks() {
  if (!publisher || !source_tracks) return;
  TrackSet out;
  out.audio = source_tracks->audio;
  if (encoder.is_open()) out.video = encoder.output_track();
  publisher->set_tracks(std::move(out));
  std::lock_guard lock(owner.mutex_);
  owner.active_ = encoder.is_open();
}

void Compositor::Worker::on_audio(const PacketPtr& packet) {
  bool video_pending = source_tracks && source_tracks->video && !encoder.is_open();
  if (!publisher || video_pending) return;  // the first few ms of audio, before the first frame
  Packet copy = *packet;  // the hub shifts timestamps in place; audio frames are small
  publisher->push(std::move(copy));
}

void Compositor::Worker::on_video(const PacketPtr& packet, SteadyClock::time_point arrived) {
  if (!publisher || !decoder.is_open()) return;
  encoder.count_source_packet(*packet);
  if (auto st = decoder.send(*packet); !st) {
    errors.add();
    return;
  }
  for (;;) {
    auto frame = decoder.receive();
    if (!frame) {
      errors.add();
      break;
    }
    if (!*frame) break;
    composite(**frame, arrived);
  }
}

void Compositor::Worker::composite(AVFrame& decoded, SteadyClock::time_point arrived) {
  bool keyframe = decoded.key_frame != 0;
  if (SteadyClock::now() - arrived > kMaxLag && !keyframe) {
    dropped.add();
    ++dropped_since_log;
    if (SteadyClock::now() - last_drop_log > std::chrono::seconds(10)) {
      log::warn("compositor '", owner.source_->id(), "': behind the source, dropped ", dropped_since_log,
                " frame(s) (anchorcast_compositor_dropped_frames_total)");
      dropped_since_log = 0;
      last_drop_log = SteadyClock::now();
    }
    return;
  }
  const YuvColor color = yuv_color_of(decoded);
  int64_t now = wall_ms();
  auto layers = animator.layers(now);
  // Nothing to draw: the decoded picture goes to the encoder as it is (no copy). Blending
  // needs a copy: the decoded picture is also the decoder's reference for later frames.
  std::erase_if(layers, [](const Layer& l) { return l.opacity <= 0; });
  AVFrame* picture = &decoded;
  if (!layers.empty()) {
    if (auto st = copy_for_blending(decoded, *canvas); !st) {
      errors.add();
      return;
    }
    picture = canvas.get();
  }
  YuvFrameRef frame = yuv_frame_ref(*picture);
  for (const auto& layer : layers) {
    const YuvaSprite& sprite = sprites.sprite(layer, frame.height, color);
    auto at = overlay::render::place(layer.record.overlay.position, sprite.width, sprite.height, frame.width,
                                     frame.height);
    int slide = layer.slide_px_1080 * frame.height / 1080 & ~1;
    bool left = layer.record.overlay.position == control::Position::top_left ||
                layer.record.overlay.position == control::Position::bottom_left;
    blend_sprite(sprite, left ? at.x - slide : at.x + slide, at.y, layer.opacity, frame);
  }
  sprites.keep_only(layers);
  if (sprites.renders() != renders_seen) {
    renders.add(sprites.renders() - renders_seen);
    renders_seen = sprites.renders();
  }
  auto reopened = encoder.encode(decoded, *picture, decoded.pts, decoder.time_base(), keyframe);
  if (!reopened) {
    log::warn(reopened.error().message);
    errors.add();
    return;
  }
  if (*reopened) publish_tracks();  // before the first packet of the new encoder
  publish_encoded(arrived, animator.version());
}

void Compositor::Worker::publish_encoded(SteadyClock::time_point arrived, uint64_t version) {
  for (;;) {
    auto packet = encoder.receive();
    if (!packet) {
      errors.add();
      return;
    }
    if (!*packet) return;
    int64_t pts_ms = publisher->push(std::move(**packet));
    frames.add();
    latency.observe(std::chrono::duration<double>(SteadyClock::now() - arrived).count());
    if (version <= reported_version) continue;
    // zerolatency: a frame in is a packet out, so this packet shows the layers just drawn.
    std::vector<uint64_t> versions;
    {
      std::lock_guard lock(owner.mutex_);
      auto now = SteadyClock::now();
      while (!owner.pending_versions_.empty() && owner.pending_versions_.front().version <= version) {
        versions.push_back(owner.pending_versions_.front().version);
        apply_delay.observe(std::chrono::duration<double>(now - owner.pending_versions_.front().since).count());
        owner.pending_versions_.pop_front();
      }
    }
    reported_version = version;
    // The cue rides with the frame that shows the change: same pts, right after it.
    if (current_scene)
      owner.main_->push_cue(metadata::build_cue(*current_scene, pts_ms));
    if (owner.applied_)
      for (uint64_t v : versions) owner.applied_(v, pts_ms);
  }
}

void Compositor::Worker::on_source_gone() {
  std::vector<uint64_t> versions;
  int64_t position = owner.main_->output_position_ms();
  {
    std::lock_guard lock(owner.mutex_);
    owner.active_ = false;
    for (const auto& p : owner.pending_versions_) versions.push_back(p.version);
    owner.pending_versions_.clear();
  }
  // Changes no frame carried yet: they reach viewers with the first frame of the next
  // session, so report them now rather than leave merchants waiting.
  if (owner.applied_)
    for (uint64_t v : versions) owner.applied_(v, position);
  publisher.reset();
  decoder.close();
  encoder.close();
}

}  // namespace anchorcast::compositor
