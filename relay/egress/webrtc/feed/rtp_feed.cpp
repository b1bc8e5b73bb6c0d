#include "relay/egress/webrtc/feed/rtp_feed.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "anchorcast/core/log.hpp"
#include "relay/egress/webrtc/feed/opus_transcoder.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/sps.hpp"
#include "relay/protocol/rtp/h264_packetizer.hpp"
#include "relay/protocol/rtp/rtp_header.hpp"

namespace anchorcast::webrtc {
namespace {

// A GOP longer than this (≈ 19 MB of RTP) is not kept for replays: viewers joining or
// asking for a keyframe then wait for the next one.
constexpr size_t kMaxGopPackets = 16384;

std::string msid_token(std::string_view label) {
  std::string out;
  for (char c : label) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ? c : '-';
  return out.empty() ? "anchorcast" : out.substr(0, 48);
}

int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// One subscription's bounded hand-off (see the contract in rtp_feed.hpp).
class RtpFeedQueue {
 public:
  explicit RtpFeedQueue(RtpFeedSubscribeOptions options)
      : capacity_(std::max<size_t>(options.queue_capacity, 16)), notify_(std::move(options.notify)) {}

  // Worker thread: a pending replay first (the latest GOP, which already holds the
  // batch's video from its keyframe on, so that video is not sent twice), then the
  // batch. Returns false when the queue overflowed and wants a replay.
  bool deliver(const std::vector<RtpPacketPtr>& batch, const std::vector<RtpPacketPtr>& gop) {
    bool wake = false;
    bool overflow = false;
    {
      std::lock_guard lock(mutex_);
      const bool was_empty = items_.empty();
      bool replayed = false;
      if (replay_requested_) {
        replay_requested_ = false;
        if (gop.empty() || items_.size() + gop.size() > capacity_) {
          needs_keyframe_ = true;  // wait for the next keyframe
        } else {
          for (const auto& p : gop) items_.push_back({p, true});
          needs_keyframe_ = false;
          replayed = true;
        }
      }
      for (const auto& p : batch) {
        if (p->kind == MediaKind::video) {
          if (replayed) continue;
          if (needs_keyframe_) {
            if (!p->keyframe_start) continue;
            needs_keyframe_ = false;
          }
        }
        if (items_.size() >= capacity_) {
          overflow = true;
          break;
        }
        items_.push_back({p, false});
      }
      if (overflow) {
        dropped_ += items_.size();
        items_.clear();
        replay_requested_ = true;
      }
      wake = was_empty && !items_.empty() && armed_;
      if (wake) armed_ = false;
    }
    if (wake && notify_) notify_();
    return !overflow;
  }

  // Worker thread. Each cue is the whole overlay state: past the bound the oldest goes.
  void deliver_cue(const FeedCuePtr& cue) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (cues_.size() >= RtpFeed::kMaxPendingCues) cues_.erase(cues_.begin());
      cues_.push_back(cue);
      wake = armed_;
      if (wake) armed_ = false;
    }
    if (wake && notify_) notify_();
  }

  size_t pop_cues(std::vector<FeedCuePtr>& out) {
    std::lock_guard lock(mutex_);
    const size_t n = cues_.size();
    for (auto& c : cues_) out.push_back(std::move(c));
    cues_.clear();
    return n;
  }

  void end() {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      ended_ = true;
      wake = items_.empty() && armed_;
      if (wake) armed_ = false;
    }
    if (wake && notify_) notify_();
  }

  size_t pop_all(std::vector<RtpFeedItem>& out) {
    std::lock_guard lock(mutex_);
    const size_t n = items_.size();
    for (auto& item : items_) out.push_back(std::move(item));
    items_.clear();
    armed_ = true;
    return n;
  }

  void request_replay() {
    std::lock_guard lock(mutex_);
    replay_requested_ = true;
  }
  bool replay_requested() {
    std::lock_guard lock(mutex_);
    return replay_requested_;
  }
  bool ended() {
    std::lock_guard lock(mutex_);
    return ended_ && items_.empty();
  }
  uint64_t dropped() {
    std::lock_guard lock(mutex_);
    return dropped_;
  }

 private:
  const size_t capacity_;
  const std::function<void()> notify_;
  std::mutex mutex_;
  std::vector<RtpFeedItem> items_;
  std::vector<FeedCuePtr> cues_;
  bool armed_ = true;
  bool replay_requested_ = true;  // a new subscription starts with the latest GOP
  bool needs_keyframe_ = true;
  bool ended_ = false;
  uint64_t dropped_ = 0;
};

struct RtpFeed::Worker {
  Worker(std::shared_ptr<Stream> s, std::string l, TranscodeMetrics transcode)
      : stream(std::move(s)), label(std::move(l)), safe_video("webrtc feed " + label, transcode) {}

  std::shared_ptr<Stream> stream;
  const std::string label;
  std::unique_ptr<Subscription> subscription;
  std::thread thread;

  // Wake-ups.
  std::mutex wake_mutex;
  std::condition_variable wake_cv;
  bool hub_pending = false;
  bool replay_pending = false;
  bool stopping = false;

  void wake(bool hub) {
    {
      std::lock_guard lock(wake_mutex);
      (hub ? hub_pending : replay_pending) = true;
    }
    wake_cv.notify_one();
  }

  // Shared with other threads.
  mutable std::mutex description_mutex;
  FeedDescription description;
  std::mutex queues_mutex;
  std::vector<std::shared_ptr<RtpFeedQueue>> queues;
  bool ended = false;  // under queues_mutex
  mutable std::mutex history_mutex;
  std::vector<RtpPacketPtr> video_history = std::vector<RtpPacketPtr>(kHistoryPackets);
  std::vector<RtpPacketPtr> audio_history = std::vector<RtpPacketPtr>(kHistoryPackets);
  std::atomic<uint64_t> video_packets{0}, audio_packets{0}, access_units{0}, opus_frames{0}, transcode_errors{0};
  std::atomic<uint64_t> cues{0}, bad_cues{0};
  std::atomic<bool> transcoder_running{false};
  std::atomic<bool> stream_ended{false};
  std::chrono::steady_clock::time_point idle_since;  // under queues_mutex, while queues is empty
  mutable std::mutex cue_mutex;
  FeedCuePtr latest_cue;  // under cue_mutex

  // Worker-thread state.
  std::unique_ptr<rtp::H264Packetizer> packetizer;
  int length_size = 4;
  std::unique_ptr<OpusTranscoder> transcoder;
  std::vector<uint8_t> audio_config;
  Codec audio_codec = Codec::aac;
  uint16_t audio_sequence = 0;
  uint32_t video_ts_base = 0;
  uint32_t audio_ts_base = 0;
  bool have_origin = false;
  int64_t origin_us = 0;       // stream pts that maps to ts_base
  int64_t origin_wall_us = 0;  // and to this Unix time
  WebRtcSafeVideo safe_video;
  VideoDelivery described_video = VideoDelivery::none;  // description.video, read without its lock
  std::vector<Packet> transcoded;
  std::chrono::steady_clock::time_point popped_at;
  std::vector<RtpPacketPtr> gop;
  bool gop_valid = false;
  std::vector<MediaEvent> events;
  std::vector<RtpPacketPtr> batch;
  std::vector<OpusFrame> opus;
  std::vector<uint8_t> scratch = std::vector<uint8_t>(rtp::kDefaultMaxPacketSize);
  uint64_t errors_logged = 0;

  void run();
  void deliver();
  void handle(const MediaEvent& event);
  void on_tracks(const TrackSet& tracks, bool new_session);
  void on_video(const Packet& packet);
  void packetize(const Packet& packet);
  void use_video_track(FeedDescription& d);
  void on_audio(const Packet& packet);
  void on_cue(const Cue& cue);
  void emit(std::shared_ptr<RtpPacket> packet);
  void end_all();
  int64_t since_origin_us(int64_t pts_us) {
    if (!have_origin) {
      have_origin = true;
      origin_us = pts_us;
      origin_wall_us = unix_now_us();
    }
    return pts_us - origin_us;
  }
  void log_error(const std::string& what) {
    ++transcode_errors;
    if (errors_logged++ < 10) log::warn("webrtc feed ", label, ": ", what);
  }
};

void RtpFeed::Worker::run() {
  std::unique_lock lock(wake_mutex);
  while (true) {
    wake_cv.wait(lock, [&] { return stopping || hub_pending || replay_pending; });
    if (stopping) return;
    hub_pending = false;
    replay_pending = false;
    lock.unlock();
    events.clear();
    subscription->pop_all(events);
    popped_at = std::chrono::steady_clock::now();
    batch.clear();
    for (const auto& e : events) handle(e);
    deliver();
    transcoder_running = safe_video.transcoder_running();
    lock.lock();
  }
}

void RtpFeed::Worker::deliver() {
  static const std::vector<RtpPacketPtr> kNoGop;
  bool overflow = false;
  {
    std::lock_guard lock(queues_mutex);
    for (const auto& q : queues) overflow |= !q->deliver(batch, gop_valid ? gop : kNoGop);
  }
  if (overflow) wake(false);
}

void RtpFeed::Worker::end_all() {
  std::lock_guard lock(queues_mutex);
  ended = true;
  for (const auto& q : queues) q->end();
}

void RtpFeed::Worker::handle(const MediaEvent& event) {
  switch (event.type) {
    case MediaEvent::Type::tracks:
      if (event.tracks) on_tracks(*event.tracks, event.new_session);
      break;
    case MediaEvent::Type::packet:
      if (!event.packet) break;
      if (event.packet->kind == MediaKind::video)
        on_video(*event.packet);
      else
        on_audio(*event.packet);
      break;
    case MediaEvent::Type::publisher_gone:
      break;  // packets resume on the same SSRCs when the anchor is back
    case MediaEvent::Type::cue:
      if (event.cue) on_cue(*event.cue);
      break;
    case MediaEvent::Type::stream_closed:
      deliver();
      batch.clear();
      end_all();
      stream_ended = true;
      break;
    default:
      break;  // timed-metadata cues: no WebRTC data channel yet to carry them
  }
}

void RtpFeed::Worker::on_tracks(const TrackSet& tracks, bool new_session) {
  FeedDescription d;
  {
    std::lock_guard lock(description_mutex);
    d = description;
  }
  d.has_audio = tracks.audio && (tracks.audio->codec == Codec::aac || tracks.audio->codec == Codec::opus);
  if (tracks.video) safe_video.set_source(*tracks.video, new_session);
  d.has_video = tracks.video && safe_video.delivery() != VideoDelivery::none;
  d.video = tracks.video ? safe_video.delivery() : VideoDelivery::none;
  described_video = d.video;
  use_video_track(d);
  if (tracks.audio && tracks.audio->codec == Codec::aac && tracks.audio->decoder_config != audio_config) {
    audio_config = tracks.audio->decoder_config;
    auto created = OpusTranscoder::create(audio_config);
    if (!created) {
      transcoder.reset();
      log_error("cannot transcode the source's AAC to Opus: " + created.error().message);
    } else {
      transcoder = std::move(*created);
      log::info("webrtc feed ", label, ": AAC → Opus with ", transcoder->encoder_name());
    }
  }
  if (tracks.audio) audio_codec = tracks.audio->codec;
  std::lock_guard lock(description_mutex);
  description = std::move(d);
}

void RtpFeed::Worker::emit(std::shared_ptr<RtpPacket> packet) {
  {
    std::lock_guard lock(history_mutex);
    auto& ring = packet->kind == MediaKind::video ? video_history : audio_history;
    ring[packet->sequence % kHistoryPackets] = packet;
  }
  if (packet->kind == MediaKind::video) {
    ++video_packets;
    if (packet->keyframe_start) {
      gop.clear();
      gop_valid = true;
    }
    if (gop_valid) {
      if (gop.size() < kMaxGopPackets) {
        gop.push_back(packet);
      } else {
        gop.clear();
        gop_valid = false;
      }
    }
  } else {
    ++audio_packets;
  }
  batch.push_back(std::move(packet));
}

// The packetizer's parameter sets and the answer's profile-level-id follow the H.264 the
// feed sends: the source's, or the transcoder's once its encoder runs.
void RtpFeed::Worker::use_video_track(FeedDescription& d) {
  auto track = safe_video.output_track();
  if (!track) return;
  auto config = h264::parse_avc_decoder_config(track->decoder_config);
  if (!config) {
    log_error("H.264 configuration unusable: " + config.error().message);
    return;
  }
  length_size = config->length_size;
  if (!config->sps.empty() && !config->pps.empty()) {
    packetizer->set_parameter_sets(config->sps[0], config->pps[0]);
    if (auto sps = h264::parse_sps(config->sps[0])) d.profile_level_id = sps->profile_level_id();
  }
}

void RtpFeed::Worker::on_video(const Packet& packet) {
  bool track_changed = false;
  transcoded.clear();
  const Packet* passthrough = safe_video.push(packet, popped_at, transcoded, track_changed);
  if (track_changed || safe_video.delivery() != described_video) {
    described_video = safe_video.delivery();
    std::lock_guard lock(description_mutex);
    description.video = described_video;
    if (track_changed) use_video_track(description);
  }
  if (passthrough) packetize(*passthrough);
  for (const Packet& p : transcoded) packetize(p);
}

void RtpFeed::Worker::packetize(const Packet& packet) {
  const int64_t pts_us = packet.pts_in(kMicros);
  const int64_t offset_us = since_origin_us(pts_us);
  const uint32_t ts = video_ts_base + static_cast<uint32_t>(rescale(offset_us, kMicros, k90kHz));
  if (auto st = packetizer->begin(packet.bytes(), length_size, ts); !st) {
    log_error("H.264 access unit dropped: " + st.error().message);
    return;
  }
  ++access_units;
  rtp::PacketInfo info;
  while (size_t n = packetizer->next(scratch, info)) {
    auto p = std::make_shared<RtpPacket>();
    p->kind = MediaKind::video;
    {
      std::lock_guard lock(description_mutex);
      p->ssrc = description.video_ssrc;
      p->payload_type = description.video_payload_type;
    }
    p->sequence = info.sequence;
    p->timestamp = ts;
    p->marker = info.marker;
    p->keyframe_start = info.keyframe_start;
    p->wallclock_us = origin_wall_us + offset_us;
    p->bytes.assign(scratch.begin(), scratch.begin() + static_cast<long>(n));
    emit(std::move(p));
  }
}

void RtpFeed::Worker::on_cue(const Cue& cue) {
  // The video packets' mapping (on_video): the same origin, so a cue's timestamp is the
  // RTP timestamp of the frame with that pts.
  const int64_t offset_us = since_origin_us(cue.pts_ms * 1000);
  const uint32_t ts = video_ts_base + static_cast<uint32_t>(rescale(offset_us, kMicros, k90kHz));
  auto stamped = stamp_cue(cue, ts);
  if (!stamped) {
    ++bad_cues;
    log_error("cue v" + std::to_string(cue.version) + " dropped: " + stamped.error().message);
    return;
  }
  ++cues;
  auto shared = std::make_shared<const FeedCue>(std::move(*stamped));
  {
    std::lock_guard lock(cue_mutex);
    latest_cue = shared;
  }
  std::lock_guard lock(queues_mutex);
  for (const auto& q : queues) q->deliver_cue(shared);
}

void RtpFeed::Worker::on_audio(const Packet& packet) {
  opus.clear();
  if (packet.codec == Codec::aac) {
    if (!transcoder) return;
    if (auto st = transcoder->push(packet.bytes(), packet.pts_in(kMicros), opus); !st) {
      log_error(st.error().message);
      return;
    }
  } else if (packet.codec == Codec::opus) {
    OpusFrame frame;
    frame.data.assign(packet.bytes().begin(), packet.bytes().end());
    frame.pts_48k = rescale(packet.pts, packet.time_base, TimeBase{1, OpusTranscoder::kSampleRate});
    opus.push_back(std::move(frame));
  } else {
    return;
  }
  uint32_t ssrc = 0;
  uint8_t pt = 0;
  {
    std::lock_guard lock(description_mutex);
    ssrc = description.audio_ssrc;
    pt = description.audio_payload_type;
  }
  for (auto& frame : opus) {
    ++opus_frames;
    const int64_t pts_us = rescale(frame.pts_48k, TimeBase{1, OpusTranscoder::kSampleRate}, kMicros);
    const int64_t offset_us = since_origin_us(pts_us);
    const uint32_t ts = audio_ts_base + static_cast<uint32_t>(rescale(offset_us, kMicros, TimeBase{1, 48000}));
    auto p = std::make_shared<RtpPacket>();
    p->kind = MediaKind::audio;
    p->ssrc = ssrc;
    p->payload_type = pt;
    p->sequence = audio_sequence++;
    p->timestamp = ts;
    p->wallclock_us = origin_wall_us + offset_us;
    p->bytes.resize(rtp::kFixedHeaderSize + frame.data.size());
    rtp::write_fixed_header(std::span(p->bytes).first<rtp::kFixedHeaderSize>(), false, pt, p->sequence, ts, ssrc);
    std::copy(frame.data.begin(), frame.data.end(), p->bytes.begin() + rtp::kFixedHeaderSize);
    emit(std::move(p));
  }
}

std::shared_ptr<RtpFeed> RtpFeed::create(std::shared_ptr<Stream> stream, std::string label,
                                         TranscodeMetrics transcode) {
  if (!stream) return nullptr;
  std::shared_ptr<RtpFeed> feed(new RtpFeed());
  feed->worker_ = std::make_unique<Worker>(stream, std::move(label), transcode);
  Worker& w = *feed->worker_;

  std::random_device random;
  std::mt19937_64 rng(static_cast<uint64_t>(random()) << 32 | random());
  FeedDescription& d = w.description;
  d.video_ssrc = static_cast<uint32_t>(rng()) | 1;
  do d.audio_ssrc = static_cast<uint32_t>(rng()) | 1;
  while (d.audio_ssrc == d.video_ssrc);
  const std::string token = msid_token(w.label);
  d.cname = "anchorcast-" + token;
  d.msid_stream = token;
  d.msid_video_track = token + "-video";
  d.msid_audio_track = token + "-audio";
  d.has_video = d.has_audio = true;  // until the tracks say otherwise
  w.idle_since = std::chrono::steady_clock::now();
  w.video_ts_base = static_cast<uint32_t>(rng());
  w.audio_ts_base = static_cast<uint32_t>(rng());
  w.audio_sequence = static_cast<uint16_t>(rng());
  w.packetizer = std::make_unique<rtp::H264Packetizer>(rtp::H264PacketizerConfig{
      .payload_type = d.video_payload_type, .ssrc = d.video_ssrc, .first_sequence = static_cast<uint16_t>(rng())});
  // Answer at once with what the stream already announced; the worker keeps it current.
  // What the source announced predicts the video: HEVC or B-frames (seen by the hub) are
  // transcoded, and the transcoder's profile is not known before its first frame.
  const StreamSnapshot snapshot = stream->snapshot();
  if (const auto& tracks = snapshot.tracks) {
    const auto& video = tracks->video;
    d.video = expected_delivery(snapshot);
    d.has_video = d.video != VideoDelivery::none;
    d.has_audio = tracks->audio && (tracks->audio->codec == Codec::aac || tracks->audio->codec == Codec::opus);
    if (d.video == VideoDelivery::passthrough)
      if (auto config = h264::parse_avc_decoder_config(video->decoder_config); config && !config->sps.empty())
        if (auto sps = h264::parse_sps(config->sps[0])) d.profile_level_id = sps->profile_level_id();
  }

  w.described_video = d.video;
  Worker* worker = &w;
  // `internal`: the sessions count themselves as webrtc viewers (see NOTES.md).
  w.subscription = stream->subscribe({.protocol = ViewerProtocol::internal,
                                      .queue_capacity = 4096,
                                      .notify = [worker] { worker->wake(true); }});
  w.thread = std::thread([worker] { worker->run(); });
  w.wake(true);
  return feed;
}

RtpFeed::~RtpFeed() {
  if (!worker_) return;
  {
    std::lock_guard lock(worker_->wake_mutex);
    worker_->stopping = true;
  }
  worker_->wake_cv.notify_one();
  if (worker_->thread.joinable()) worker_->thread.join();
  worker_->subscription.reset();  // no notify can reach the worker after this
}

FeedDescription RtpFeed::description() const {
  std::lock_guard lock(worker_->description_mutex);
  return worker_->description;
}

std::unique_ptr<RtpFeedSubscription> RtpFeed::attach(RtpFeedSubscribeOptions options) {
  auto queue = std::make_shared<RtpFeedQueue>(std::move(options));
  {
    std::lock_guard lock(worker_->queues_mutex);
    if (worker_->ended) queue->end();
    worker_->queues.push_back(queue);
  }
  worker_->wake(false);
  return std::unique_ptr<RtpFeedSubscription>(new RtpFeedSubscription(shared_from_this(), std::move(queue)));
}

RtpPacketPtr RtpFeed::find(MediaKind kind, uint16_t sequence) const {
  std::lock_guard lock(worker_->history_mutex);
  const auto& ring = kind == MediaKind::video ? worker_->video_history : worker_->audio_history;
  const RtpPacketPtr& p = ring[sequence % kHistoryPackets];
  return p && p->sequence == sequence ? p : nullptr;
}

FeedCuePtr RtpFeed::latest_cue() const {
  std::lock_guard lock(worker_->cue_mutex);
  return worker_->latest_cue;
}

RtpFeedStats RtpFeed::stats() const {
  RtpFeedStats s;
  s.video_packets = worker_->video_packets;
  s.audio_packets = worker_->audio_packets;
  s.access_units = worker_->access_units;
  s.opus_frames = worker_->opus_frames;
  s.transcode_errors = worker_->transcode_errors;
  s.cues = worker_->cues;
  s.bad_cues = worker_->bad_cues;
  {
    std::lock_guard lock(worker_->description_mutex);
    s.video = worker_->description.video;
  }
  s.transcoder_running = worker_->transcoder_running;
  s.ended = worker_->stream_ended;
  std::lock_guard lock(worker_->queues_mutex);
  s.subscribers = static_cast<int>(worker_->queues.size());
  if (worker_->queues.empty()) s.idle = std::chrono::steady_clock::now() - worker_->idle_since;
  return s;
}

void RtpFeed::detach(RtpFeedQueue* queue) {
  std::lock_guard lock(worker_->queues_mutex);
  auto& qs = worker_->queues;
  qs.erase(std::remove_if(qs.begin(), qs.end(), [&](const auto& q) { return q.get() == queue; }), qs.end());
  if (qs.empty()) worker_->idle_since = std::chrono::steady_clock::now();
}

void RtpFeed::request_replay(RtpFeedQueue* queue) {
  queue->request_replay();
  worker_->wake(false);
}

RtpFeedSubscription::~RtpFeedSubscription() { feed_->detach(queue_.get()); }
size_t RtpFeedSubscription::pop_all(std::vector<RtpFeedItem>& out) { return queue_->pop_all(out); }
size_t RtpFeedSubscription::pop_cues(std::vector<FeedCuePtr>& out) { return queue_->pop_cues(out); }
void RtpFeedSubscription::request_keyframe() { feed_->request_replay(queue_.get()); }
bool RtpFeedSubscription::ended() const { return queue_->ended(); }
uint64_t RtpFeedSubscription::dropped_packets() const { return queue_->dropped(); }

}  // namespace anchorcast::webrtc
