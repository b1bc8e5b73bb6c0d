#include "relay/egress/webrtc/feed/opus_transcoder.hpp"

#include "relay/codec/av_handles.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <cstdlib>

namespace anchorcast::webrtc {
namespace {

struct FifoFree {
  void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }
};

constexpr int64_t kReanchorThreshold48k = OpusTranscoder::kSampleRate / 10;  // 100 ms

}  // namespace

struct OpusTranscoder::State {
  AvCodecContextPtr decoder;
  AvCodecContextPtr encoder;
  SwrContextPtr resampler;
  std::unique_ptr<AVAudioFifo, FifoFree> fifo;
  AvFramePtr decoded;
  AvFramePtr to_encode;
  AvPacketPtr packet;
  std::string encoder_name;
  // Input layout/rate the resampler was set up for (AAC may change mid-stream with SBR).
  int in_rate = 0;
  int in_channels = 0;
  int in_format = -1;
  bool anchored = false;
  int64_t fifo_start_48k = 0;  // pts of the first sample in the fifo
  int64_t next_in_48k = 0;     // where the next decoded sample is expected
  int64_t pending_pts_48k = 0; // pts of the frame just sent to the decoder
};

OpusTranscoder::OpusTranscoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
OpusTranscoder::~OpusTranscoder() {
  // Drain the encoder so libopus does not close with frames queued (it warns); the
  // packets are dropped: the feed is going away.
  if (!state_ || !state_->encoder || !state_->packet) return;
  if (avcodec_send_frame(state_->encoder.get(), nullptr) < 0) return;
  while (avcodec_receive_packet(state_->encoder.get(), state_->packet.get()) == 0) av_packet_unref(state_->packet.get());
}

const std::string& OpusTranscoder::encoder_name() const { return state_->encoder_name; }

Result<std::unique_ptr<OpusTranscoder>> OpusTranscoder::create(std::span<const uint8_t> asc) {
  if (asc.empty() || asc.size() > 64) return make_error("AAC AudioSpecificConfig missing or too long");
  auto s = std::make_unique<State>();
  const AVCodec* aac = avcodec_find_decoder(AV_CODEC_ID_AAC);
  if (!aac) return make_error("FFmpeg has no AAC decoder");
  s->decoder.reset(avcodec_alloc_context3(aac));
  if (!s->decoder) return make_error("out of memory for the AAC decoder");
  s->decoder->extradata = static_cast<uint8_t*>(av_mallocz(asc.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!s->decoder->extradata) return make_error("out of memory for the AAC decoder");
  std::copy(asc.begin(), asc.end(), s->decoder->extradata);
  s->decoder->extradata_size = static_cast<int>(asc.size());
  if (int rc = avcodec_open2(s->decoder.get(), aac, nullptr); rc < 0)
    return make_error("AAC decoder refused the AudioSpecificConfig: " + av_error_text(rc));

  // Debian's FFmpeg has libopus; the native encoder is the fallback (it is
  // "experimental" there, hence strict -2).
  const AVCodec* opus = avcodec_find_encoder_by_name("libopus");
  if (!opus) opus = avcodec_find_encoder(AV_CODEC_ID_OPUS);
  if (!opus) return make_error("FFmpeg has no Opus encoder");
  s->encoder_name = opus->name;
  s->encoder.reset(avcodec_alloc_context3(opus));
  if (!s->encoder) return make_error("out of memory for the Opus encoder");
  AVCodecContext* e = s->encoder.get();
  e->sample_rate = kSampleRate;
  av_channel_layout_default(&e->ch_layout, kChannels);
  e->bit_rate = kBitrate;
  e->time_base = AVRational{1, kSampleRate};
  e->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;
  e->sample_fmt = AV_SAMPLE_FMT_S16;
  if (opus->sample_fmts) {
    e->sample_fmt = opus->sample_fmts[0];
    for (const AVSampleFormat* f = opus->sample_fmts; *f != AV_SAMPLE_FMT_NONE; ++f)
      if (*f == AV_SAMPLE_FMT_FLT) e->sample_fmt = AV_SAMPLE_FMT_FLT;
  }
  e->frame_size = kFrameSamples;
  AVDictionary* options = nullptr;
  if (s->encoder_name == "libopus") {
    av_dict_set(&options, "application", "audio", 0);
    av_dict_set(&options, "frame_duration", "20", 0);
  }
  const int rc = avcodec_open2(e, opus, &options);
  av_dict_free(&options);
  if (rc < 0) return make_error("Opus encoder did not open: " + av_error_text(rc));
  if (e->frame_size != kFrameSamples)
    return make_error("Opus encoder wants " + std::to_string(e->frame_size) + "-sample frames, not 960");

  s->fifo.reset(av_audio_fifo_alloc(e->sample_fmt, kChannels, kFrameSamples * 4));
  s->decoded.reset(av_frame_alloc());
  s->to_encode.reset(av_frame_alloc());
  s->packet.reset(av_packet_alloc());
  if (!s->fifo || !s->decoded || !s->to_encode || !s->packet) return make_error("out of memory for the transcoder");
  return std::unique_ptr<OpusTranscoder>(new OpusTranscoder(std::move(s)));
}

Status OpusTranscoder::push(std::span<const uint8_t> aac_frame, int64_t pts_us, std::vector<OpusFrame>& out) {
  State& s = *state_;
  if (aac_frame.empty()) return make_error("empty AAC frame");
  if (aac_frame.size() > 1 << 16) return make_error("AAC frame larger than 64 KiB");
  s.pending_pts_48k = av_rescale(pts_us, kSampleRate, 1000000);
  s.packet->data = const_cast<uint8_t*>(aac_frame.data());  // FFmpeg does not write to it
  s.packet->size = static_cast<int>(aac_frame.size());
  int rc = avcodec_send_packet(s.decoder.get(), s.packet.get());
  s.packet->data = nullptr;
  s.packet->size = 0;
  if (rc < 0 && rc != AVERROR(EAGAIN)) return make_error("AAC decoder refused a frame: " + av_error_text(rc));
  return drain_decoder(out);
}

Status OpusTranscoder::drain_decoder(std::vector<OpusFrame>& out) {
  State& s = *state_;
  while (true) {
    int rc = avcodec_receive_frame(s.decoder.get(), s.decoded.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return {};
    if (rc < 0) return make_error("AAC decoding failed: " + av_error_text(rc));
    AVFrame* in = s.decoded.get();
    if (in->sample_rate != s.in_rate || in->ch_layout.nb_channels != s.in_channels || in->format != s.in_format) {
      SwrContext* swr = nullptr;
      AVChannelLayout out_layout;
      av_channel_layout_default(&out_layout, kChannels);
      rc = swr_alloc_set_opts2(&swr, &out_layout, s.encoder->sample_fmt, kSampleRate, &in->ch_layout,
                               static_cast<AVSampleFormat>(in->format), in->sample_rate, 0, nullptr);
      if (rc < 0 || swr_init(swr) < 0) {
        swr_free(&swr);
        av_frame_unref(in);
        return make_error("cannot resample " + std::to_string(in->sample_rate) + " Hz audio to 48 kHz stereo");
      }
      s.resampler.reset(swr);
      s.in_rate = in->sample_rate;
      s.in_channels = in->ch_layout.nb_channels;
      s.in_format = in->format;
    }
    // Anchor: the fifo's timeline follows the input's pts unless it drifts by > 100 ms.
    const int64_t expected = s.next_in_48k;
    if (!s.anchored || std::llabs(s.pending_pts_48k - expected) > kReanchorThreshold48k) {
      av_audio_fifo_reset(s.fifo.get());
      s.fifo_start_48k = s.pending_pts_48k;
      s.next_in_48k = s.pending_pts_48k;
      s.anchored = true;
    }
    const int max_out = swr_get_out_samples(s.resampler.get(), in->nb_samples);
    uint8_t* planes[AV_NUM_DATA_POINTERS] = {};
    if (max_out <= 0 ||
        av_samples_alloc(planes, nullptr, kChannels, max_out, s.encoder->sample_fmt, 0) < 0) {
      av_frame_unref(in);
      return make_error("out of memory resampling audio");
    }
    const int converted = swr_convert(s.resampler.get(), planes, max_out, const_cast<const uint8_t**>(in->extended_data),
                                      in->nb_samples);
    const int64_t in_duration_48k = av_rescale(in->nb_samples, kSampleRate, in->sample_rate);
    av_frame_unref(in);
    if (converted < 0) {
      av_freep(&planes[0]);
      return make_error("resampling failed: " + av_error_text(converted));
    }
    rc = av_audio_fifo_write(s.fifo.get(), reinterpret_cast<void**>(planes), converted);
    av_freep(&planes[0]);
    if (rc < converted) return make_error("out of memory queueing audio");
    s.next_in_48k += in_duration_48k;
    if (auto st = encode_ready(out); !st) return st;
  }
}

Status OpusTranscoder::encode_ready(std::vector<OpusFrame>& out) {
  State& s = *state_;
  while (av_audio_fifo_size(s.fifo.get()) >= kFrameSamples) {
    AVFrame* f = s.to_encode.get();
    av_frame_unref(f);
    f->nb_samples = kFrameSamples;
    f->format = s.encoder->sample_fmt;
    f->sample_rate = kSampleRate;
    av_channel_layout_copy(&f->ch_layout, &s.encoder->ch_layout);
    if (av_frame_get_buffer(f, 0) < 0) return make_error("out of memory for an Opus frame");
    if (av_audio_fifo_read(s.fifo.get(), reinterpret_cast<void**>(f->data), kFrameSamples) < kFrameSamples)
      return make_error("audio fifo underrun");
    f->pts = s.fifo_start_48k;
    s.fifo_start_48k += kFrameSamples;
    int rc = avcodec_send_frame(s.encoder.get(), f);
    if (rc < 0) return make_error("Opus encoder refused a frame: " + av_error_text(rc));
    while (true) {
      rc = avcodec_receive_packet(s.encoder.get(), s.packet.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
      if (rc < 0) return make_error("Opus encoding failed: " + av_error_text(rc));
      OpusFrame frame;
      frame.data.assign(s.packet->data, s.packet->data + s.packet->size);
      // The encoder's pts is the input frame's pts minus its delay; keep the input's so
      // audio stays on the video's clock (the 6.5 ms pre-skip is within lip-sync slack).
      frame.pts_48k = s.packet->pts + s.encoder->initial_padding;
      frame.samples = s.packet->duration > 0 ? static_cast<int>(s.packet->duration) : kFrameSamples;
      out.push_back(std::move(frame));
      av_packet_unref(s.packet.get());
    }
  }
  return {};
}

}  // namespace anchorcast::webrtc
