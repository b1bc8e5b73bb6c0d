// The compositor's per-frame work on one core: decode (codec::VideoDecoder) -> copy out of the
// decoder's reference picture -> blend a product card and a countdown -> encode
// (codec::H264Encoder, libx264 zerolatency), over a 10 s anchor-like stream at 720p30 and
// 1080p30, for the presets we choose between. Unpaced: each frame's time is the latency
// the compositor adds when a core is free for it; CPU seconds (this thread's rusage)
// compare with the ffmpeg CLI doing the same (perf/compositor/run.sh).
//
// Input: $ANCHORCAST_TRANSCODE_DIR/in_{720,1080}p30.flv, made by run.sh; when missing
// they are made here with the same ffmpeg command.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include <libavutil/log.h>
}

#include "overlay/compositor/av_yuv_frame.hpp"
#include "relay/codec/video_decoder.hpp"
#include "relay/codec/h264_encoder.hpp"
#include "overlay/compositor/yuv_blend.hpp"
#include "relay/egress/webrtc/feed/webrtc_safe_video.hpp"
#include "relay/protocol/flv/flv_header.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/sps.hpp"

namespace {

using namespace anchorcast;
using namespace anchorcast::compositor;

struct Input {
  VideoTrack track;
  std::vector<Packet> packets;
};

std::string input_dir() {
  const char* dir = std::getenv("ANCHORCAST_TRANSCODE_DIR");
  return dir ? dir : "/tmp/anchorcast-transcode";
}

// Same as tests/unit/overlay/compositor/h264_stream.cpp: the video of an FLV file as
// the RTMP ingest would hand it over.
Input demux(const std::string& path) {
  Input out;
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> file{std::istreambuf_iterator<char>(in), {}};
  std::span<const uint8_t> rest(file);
  if (!flv::parse_file_header(rest)) return out;
  rest = rest.subspan(flv::kFileHeaderWithTagSize0);
  while (!rest.empty()) {
    auto tag = flv::parse_tag(rest);
    if (!tag) break;
    rest = rest.subspan(tag->size());
    if (tag->header.type != flv::TagType::video) continue;
    auto body = flv::parse_video_tag_body(tag->body);
    if (!body) continue;
    if (body->avc_packet_type == flv::AvcPacketType::sequence_header) {
      out.track.decoder_config.assign(body->data.begin(), body->data.end());
      auto config = h264::parse_avc_decoder_config(body->data);
      auto sps = h264::parse_sps(config->sps.at(0));
      out.track.width = sps->width;
      out.track.height = sps->height;
      out.track.fps = 30;
    } else if (body->avc_packet_type == flv::AvcPacketType::nalu) {
      auto packet = flv::video_packet_from_tag(*body, tag->header.timestamp_ms);
      if (packet) out.packets.push_back(std::move(packet).value());
    }
  }
  return out;
}

int bitrate_kbps(int height) { return height >= 1080 ? 4500 : 2500; }

// An anchor's OBS-like push: CBR, 2 s GOP, light temporal noise like a camera's; with
// `b_frames`, OBS's default x264 settings (3 B-frames), the WebRTC transcode's input.
const Input& input(int height, int b_frames = 0) {
  static Input inputs[2][2];
  Input& in = inputs[height >= 1080][b_frames > 0];
  if (!in.packets.empty()) return in;
  const std::string path =
      input_dir() + "/in_" + (b_frames ? "bf_" : "") + std::to_string(height) + "p30.flv";
  if (!std::ifstream(path)) {
    const int width = height * 16 / 9;
    const std::string kbps = std::to_string(bitrate_kbps(height));
    const std::string command =
        "mkdir -p " + input_dir() + " && ffmpeg -v error -y -f lavfi -i testsrc2=size=" + std::to_string(width) +
        "x" + std::to_string(height) + ":rate=30,noise=alls=6:allf=t -t 10 -pix_fmt yuv420p -c:v libx264 " +
        "-preset veryfast -bf " + std::to_string(b_frames) + " -g 60 -b:v " + kbps + "k -maxrate " + kbps +
        "k -bufsize " + kbps + "k -f flv " + path;
    if (std::system(command.c_str()) != 0) return in;
  }
  in = demux(path);
  return in;
}

// Premultiplied RGBA of a card panel: rounded corners, random "content" in the middle.
std::vector<uint8_t> card_rgba(int w, int h, uint32_t seed) {
  std::vector<uint8_t> rgba(static_cast<size_t>(w) * h * 4);
  std::mt19937 rng(seed);
  const int r = h / 9;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int cx = x < r ? r - x : x >= w - r ? x - (w - r - 1) : 0;
      const int cy = y < r ? r - y : y >= h - r ? y - (h - r - 1) : 0;
      const int a = cx * cx + cy * cy <= r * r ? 235 : 0;
      uint8_t* p = &rgba[(static_cast<size_t>(y) * w + x) * 4];
      const bool content = x > w / 3 && y > h / 5 && y < h * 4 / 5;
      for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>((content ? rng() & 0xFF : 250) * a / 255);
      p[3] = static_cast<uint8_t>(a);
    }
  return rgba;
}

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double thread_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void BM_Transcode(benchmark::State& state, int height, const char* preset) {
  av_log_set_level(AV_LOG_ERROR);
  const Input& in = input(height);
  if (in.packets.empty()) {
    state.SkipWithError("no input (ffmpeg missing?)");
    return;
  }
  const int width = in.track.width;
  // Card laid out for 1080p (480x220) and scaled to the video height, like the renderer.
  const int card_w = (480 * height / 1080) & ~1, card_h = (220 * height / 1080) & ~1;
  const int clock_w = (160 * height / 1080) & ~1, clock_h = (48 * height / 1080) & ~1;
  const int margin = 48 * height / 1080 & ~1;
  const auto card_pixels = card_rgba(card_w, card_h, 1);

  for (auto _ : state) {
    codec::VideoDecoder decoder;
    codec::H264Encoder encoder;
    codec::EncoderSettings settings;
    settings.width = width;
    settings.height = height;
    settings.time_base = kMillis;
    settings.fps = 30;
    settings.bitrate_kbps = bitrate_kbps(height);
    settings.keyframe_interval = 60;
    settings.preset = preset;
    settings.threads = 1;
    if (!decoder.open(in.track) || !encoder.open(settings)) {
      state.SkipWithError("cannot open the codecs");
      return;
    }
    AvFramePtr target(av_frame_alloc());
    YuvaSprite card, clock;
    // Wall time per frame is the added latency on a free core; on a shared machine the
    // thread's CPU time per frame is the same figure without the waits for a core.
    std::vector<double> frame_ms, frame_cpu_ms;
    frame_ms.reserve(in.packets.size());
    frame_cpu_ms.reserve(in.packets.size());
    size_t packets_out = 0;
    const double cpu_start = thread_cpu_seconds();
    const auto wall_start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < in.packets.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const double cpu0 = thread_cpu_ms();
      if (!decoder.send(in.packets[i])) continue;
      while (true) {
        auto frame = decoder.receive();
        if (!frame || !*frame) break;
        AVFrame& decoded = **frame;
        if (card.width == 0) {
          const YuvColor color = yuv_color_of(decoded);
          card = make_sprite(card_pixels.data(), card_w, card_h, card_w * 4, color.matrix, color.range);
        }
        if (i % 30 == 0) {  // the countdown changes once a second: render + convert then
          const YuvColor color = yuv_color_of(decoded);
          const auto pixels = card_rgba(clock_w, clock_h, static_cast<uint32_t>(i));
          clock = make_sprite(pixels.data(), clock_w, clock_h, clock_w * 4, color.matrix, color.range);
        }
        if (!copy_for_blending(decoded, *target)) continue;
        YuvFrameRef ref = yuv_frame_ref(*target);
        blend_sprite(card, width - card_w - margin, height - card_h - margin, kOpaque, ref);
        blend_sprite(clock, width - clock_w - margin, height - card_h - margin - clock_h, kOpaque, ref);
        (void)encoder.encode(target.get(), decoded.pts);
        while (true) {
          auto packet = encoder.receive();
          if (!packet || !packet->has_value()) break;
          benchmark::DoNotOptimize(packet->value().bytes().data());
          ++packets_out;
        }
      }
      frame_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      frame_cpu_ms.push_back(thread_cpu_ms() - cpu0);
    }
    const double cpu = thread_cpu_seconds() - cpu_start;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    std::sort(frame_ms.begin(), frame_ms.end());
    std::sort(frame_cpu_ms.begin(), frame_cpu_ms.end());
    auto at = [](const std::vector<double>& v, double q) { return v[static_cast<size_t>(q * (v.size() - 1))]; };
    state.counters["frames"] = static_cast<double>(packets_out);
    state.counters["ms_per_frame"] = wall * 1000 / frame_ms.size();
    state.counters["cpu_ms_per_frame"] = cpu * 1000 / frame_ms.size();
    state.counters["p50_ms"] = at(frame_ms, 0.50);
    state.counters["p99_ms"] = at(frame_ms, 0.99);
    state.counters["max_ms"] = frame_ms.back();
    state.counters["cpu_p50_ms"] = at(frame_cpu_ms, 0.50);
    state.counters["cpu_p99_ms"] = at(frame_cpu_ms, 0.99);
    state.counters["cpu_max_ms"] = frame_cpu_ms.back();
    state.counters["cpu_s"] = cpu;
    state.counters["cpu_share_of_realtime"] = cpu / (frame_ms.size() / 30.0);
  }
  state.SetLabel(std::to_string(width) + "x" + std::to_string(height) + " " + preset);
}

BENCHMARK_CAPTURE(BM_Transcode, 720p30_ultrafast, 720, "ultrafast")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Transcode, 720p30_superfast, 720, "superfast")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Transcode, 720p30_veryfast, 720, "veryfast")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Transcode, 1080p30_ultrafast, 1080, "ultrafast")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Transcode, 1080p30_superfast, 1080, "superfast")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Transcode, 1080p30_veryfast, 1080, "veryfast")->Iterations(1)->Unit(benchmark::kMillisecond);

// Decode alone: codec::VideoDecoder (one thread, slice threading) against libavcodec's default
// frame threading with 2 and 4 threads, which the decoder does not use: how many packets
// go in before the first frame comes out (each frame thread holds one back) and the
// wall time per frame (the CPU column covers this thread only: frame threads' work is
// not in it). Arg 0: height; arg 1: 0 = codec::VideoDecoder, n = n frame threads.
void BM_Decode(benchmark::State& state) {
  av_log_set_level(AV_LOG_ERROR);
  const Input& in = input(static_cast<int>(state.range(0)));
  const int frame_threads = static_cast<int>(state.range(1));
  for (auto _ : state) {
    int frames = 0;
    int first_frame_after = -1;
    const auto t0 = std::chrono::steady_clock::now();
    if (frame_threads == 0) {
      codec::VideoDecoder decoder;
      if (!decoder.open(in.track)) return state.SkipWithError("open");
      for (size_t i = 0; i < in.packets.size(); ++i) {
        (void)decoder.send(in.packets[i]);
        while (true) {
          auto f = decoder.receive();
          if (!f || !*f) break;
          if (first_frame_after < 0) first_frame_after = static_cast<int>(i) + 1;
          ++frames;
        }
      }
    } else {
      AvCodecContextPtr c(avcodec_alloc_context3(avcodec_find_decoder(AV_CODEC_ID_H264)));
      c->extradata = static_cast<uint8_t*>(av_mallocz(in.track.decoder_config.size() + AV_INPUT_BUFFER_PADDING_SIZE));
      std::copy(in.track.decoder_config.begin(), in.track.decoder_config.end(), c->extradata);
      c->extradata_size = static_cast<int>(in.track.decoder_config.size());
      c->thread_count = frame_threads;
      c->thread_type = FF_THREAD_FRAME;
      if (avcodec_open2(c.get(), nullptr, nullptr) < 0) return state.SkipWithError("open");
      AvPacketPtr pkt(av_packet_alloc());
      AvFramePtr frame(av_frame_alloc());
      for (size_t i = 0; i < in.packets.size(); ++i) {
        pkt->data = const_cast<uint8_t*>(in.packets[i].bytes().data());
        pkt->size = static_cast<int>(in.packets[i].bytes().size());
        pkt->pts = in.packets[i].pts;
        avcodec_send_packet(c.get(), pkt.get());
        while (avcodec_receive_frame(c.get(), frame.get()) == 0) {
          if (first_frame_after < 0) first_frame_after = static_cast<int>(i) + 1;
          ++frames;
          av_frame_unref(frame.get());
        }
      }
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    state.counters["packets_before_first_frame"] = first_frame_after;
    state.counters["wall_ms_per_frame"] = frames ? ms / frames : 0;
  }
  state.SetLabel(frame_threads ? std::to_string(frame_threads) + " frame threads" : "codec::VideoDecoder");
}
BENCHMARK(BM_Decode)->Args({720, 0})->Args({720, 2})->Args({720, 4})->Args({1080, 0})->Unit(benchmark::kMillisecond);

}  // namespace

// The WebRTC-safe transcode of a feed (relay/egress/webrtc/feed/webrtc_safe_video):
// OBS's default output (3 B-frames) -> decode -> libx264 zerolatency without B-frames,
// the preset MatchedEncoder picks (veryfast below 1080 lines, ultrafast at 1080). Per
// source packet, the time push() takes is what the transcode adds to a frame's delay
// (the B-frames' reorder wait is the source's, a decoder pays it anyway); unpaced, on
// one core. perf/webrtc_transcode/run.sh puts the ffmpeg CLI beside it.
void BM_WebRtcSafe(benchmark::State& state, int height) {
  av_log_set_level(AV_LOG_ERROR);
  const Input& in = input(height, 3);
  if (in.packets.empty()) {
    state.SkipWithError("no input (ffmpeg missing?)");
    return;
  }
  for (auto _ : state) {
    webrtc::WebRtcSafeVideo video("bench", {});
    video.set_source(in.track, true);
    std::vector<Packet> out;
    std::vector<double> push_ms, push_cpu_ms;
    push_ms.reserve(in.packets.size());
    push_cpu_ms.reserve(in.packets.size());
    size_t packets_out = 0;
    const double cpu_start = thread_cpu_seconds();
    for (const Packet& p : in.packets) {
      out.clear();
      bool track_changed = false;
      const auto t0 = std::chrono::steady_clock::now();
      const double cpu0 = thread_cpu_ms();
      video.push(p, t0, out, track_changed);
      push_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      push_cpu_ms.push_back(thread_cpu_ms() - cpu0);
      packets_out += out.size();
      for (const Packet& o : out) benchmark::DoNotOptimize(o.bytes().data());
    }
    const double cpu = thread_cpu_seconds() - cpu_start;
    if (video.delivery() != webrtc::VideoDelivery::transcoded || packets_out + 3 < in.packets.size()) {
      state.SkipWithError("the input was not transcoded (no B-frames?)");
      return;
    }
    std::sort(push_ms.begin(), push_ms.end());
    std::sort(push_cpu_ms.begin(), push_cpu_ms.end());
    auto at = [](const std::vector<double>& v, double q) { return v[static_cast<size_t>(q * (v.size() - 1))]; };
    state.counters["frames"] = static_cast<double>(packets_out);
    state.counters["cpu_ms_per_frame"] = cpu * 1000 / static_cast<double>(packets_out);
    state.counters["p50_ms"] = at(push_ms, 0.50);
    state.counters["p99_ms"] = at(push_ms, 0.99);
    state.counters["max_ms"] = push_ms.back();
    state.counters["cpu_p50_ms"] = at(push_cpu_ms, 0.50);
    state.counters["cpu_p99_ms"] = at(push_cpu_ms, 0.99);
    state.counters["cpu_s"] = cpu;
  }
  state.SetLabel(std::to_string(in.track.width) + "x" + std::to_string(height) + " B-frames in");
}

BENCHMARK_CAPTURE(BM_WebRtcSafe, 720p30, 720)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_WebRtcSafe, 1080p30, 1080)->Iterations(1)->Unit(benchmark::kMillisecond);
