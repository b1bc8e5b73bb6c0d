#include "anchorcast/egress/hls_service.hpp"

#include <atomic>
#include <vector>

#include "relay/egress/hls/hls_packager.hpp"

namespace anchorcast {

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kViewerWindow = std::chrono::seconds(15);
// After the publisher leaves, the playlist stays up this long so players ride out an
// anchor's reconnect instead of failing on a 404.
constexpr auto kReconnectGrace = std::chrono::seconds(30);

std::string with_query_on_segments(const std::string& playlist, std::string_view query) {
  std::string out;
  out.reserve(playlist.size() + 64 * query.size());
  size_t pos = 0;
  while (pos < playlist.size()) {
    size_t end = playlist.find('\n', pos);
    if (end == std::string::npos) end = playlist.size();
    std::string_view line(playlist.data() + pos, end - pos);
    constexpr std::string_view map = "#EXT-X-MAP:URI=\"";
    if (line.starts_with(map) && line.ends_with("\"")) {
      // An fMP4 init section is fetched like a segment: its URI needs the query too.
      out.append(line.substr(0, line.size() - 1)).append("?").append(query).append("\"");
    } else {
      out.append(line);
      if (!line.empty() && line[0] != '#') out.append("?").append(query);
    }
    if (end < playlist.size()) out.push_back('\n');
    pos = end + 1;
  }
  return out;
}
}  // namespace

struct HlsService::Feed {
  std::shared_ptr<Stream> stream;
  std::unique_ptr<Subscription> subscription;
  std::unique_ptr<HlsPackager> packager;
  std::vector<MediaEvent> events;  // feeding thread only
  // Written by the feeding thread, read by lookups on any.
  std::atomic<bool> live{false};
  std::atomic<Clock::rep> gone_at{0};  // since the clock's epoch; 0: never gone
};

HlsService::HlsService(HlsConfig config, std::function<void(std::function<void()>)> post)
    : config_(config), post_(std::move(post)) {}

HlsService::~HlsService() = default;

void HlsService::attach(const Hub& hub, const std::string& stream_id) {
  if (auto source = hub.find(stream_id)) attach(source, Rendition::source);
  if (auto main = hub.composited(stream_id)) attach(main, Rendition::main);
}

void HlsService::attach(const std::shared_ptr<Stream>& stream, Rendition rendition) {
  auto feed = std::make_shared<Feed>();
  feed->stream = stream;
  feed->packager = std::make_unique<HlsPackager>(config_);
  std::weak_ptr<Feed> weak = feed;
  SubscribeOptions options;
  options.protocol = ViewerProtocol::internal;
  options.queue_capacity = 4096;  // the packager is fast; this only absorbs feeding-thread stalls
  options.notify = [this, weak] {
    post_([this, weak] {
      if (auto f = weak.lock()) drain(*f);
    });
  };
  feed->subscription = stream->subscribe(std::move(options));
  {
    std::unique_lock lock(feeds_mutex_);
    feeds_[{stream->id(), rendition}] = feed;
  }
  drain(*feed);
}

void HlsService::detach(const std::string& stream_id) {
  std::unique_lock lock(feeds_mutex_);
  feeds_.erase({stream_id, Rendition::source});
  feeds_.erase({stream_id, Rendition::main});
}

void HlsService::close() {
  std::map<std::pair<std::string, Rendition>, std::shared_ptr<Feed>> feeds;
  std::unique_lock lock(feeds_mutex_);
  feeds.swap(feeds_);
  lock.unlock();  // the feeds unsubscribe outside the lock
}

// No write to wait for, so not a ViewerPump: every event goes to the packager at once.
void HlsService::drain(Feed& feed) {
  if (!feed.subscription) return;
  feed.events.clear();
  feed.subscription->pop_all(feed.events);
  for (const auto& e : feed.events) {
    if (e.type == MediaEvent::Type::tracks) feed.live = true;
    if (e.type == MediaEvent::Type::publisher_gone || e.type == MediaEvent::Type::stream_closed) {
      feed.gone_at = Clock::now().time_since_epoch().count();
      feed.live = false;
    }
    feed.packager->on_event(e);
  }
  feed.events.clear();
}

std::variant<std::shared_ptr<const HlsService::Feed>, HlsMiss> HlsService::live_feed(const std::string& stream_id,
                                                                                    Rendition rendition) const {
  std::shared_ptr<const Feed> feed;
  {
    std::shared_lock lock(feeds_mutex_);
    auto it = feeds_.find({stream_id, rendition});
    if (it == feeds_.end()) it = feeds_.find({stream_id, Rendition::source});
    if (it == feeds_.end()) return HlsMiss::unknown_stream;
    feed = it->second;
  }
  Clock::rep gone_at = feed->gone_at;
  bool recent = feed->live ||
                (gone_at != 0 && Clock::now() - Clock::time_point(Clock::duration(gone_at)) < kReconnectGrace);
  if (!recent || !feed->packager->has_media()) return HlsMiss::not_live;
  return feed;
}

bool HlsService::has_feed(const std::string& stream_id, Rendition rendition) const {
  std::shared_lock lock(feeds_mutex_);
  return feeds_.count({stream_id, rendition}) > 0;
}

HlsPlaylist HlsService::playlist(const std::string& stream_id, Rendition rendition, std::string_view client) {
  auto found = live_feed(stream_id, rendition);
  if (auto* miss = std::get_if<HlsMiss>(&found)) return *miss;
  auto playlist = std::get<std::shared_ptr<const Feed>>(found)->packager->playlist();
  if (!playlist) return HlsMiss::no_segment_yet;
  if (rendition == Rendition::source && has_feed(stream_id, Rendition::main))
    *playlist = with_query_on_segments(*playlist, "rendition=source");
  std::lock_guard lock(viewers_mutex_);
  auto& clients = seen_[stream_id];
  auto now = Clock::now();
  clients[std::string(client)] = now;
  if (clients.size() > 4096) std::erase_if(clients, [&](const auto& c) { return now - c.second >= kViewerWindow; });
  return std::move(*playlist);
}

HlsSegment HlsService::segment(const std::string& stream_id, Rendition rendition, std::string_view name) const {
  auto found = live_feed(stream_id, rendition);
  if (auto* miss = std::get_if<HlsMiss>(&found)) return *miss;
  auto bytes = std::get<std::shared_ptr<const Feed>>(found)->packager->segment(name);
  if (!bytes) return HlsMiss::unknown_segment;
  return bytes;
}

int HlsService::viewers(const std::string& stream_id) const {
  std::lock_guard lock(viewers_mutex_);
  auto it = seen_.find(stream_id);
  if (it == seen_.end()) return 0;
  auto now = Clock::now();
  int n = 0;
  for (const auto& [client, at] : it->second)
    if (now - at < kViewerWindow) ++n;
  return n;
}

}  // namespace anchorcast
