#include "control/image_decoder.hpp"

#include <cstring>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
}

namespace anchorcast::control {

namespace {

struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};

std::string av_error_text(int rc) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(rc, buf, sizeof buf);
  return buf;
}

}  // namespace

Status verify_image_decodes(const DecodedImage& image) {
  const std::string& mime = image.info.mime;
  AVCodecID id = mime == "image/png"    ? AV_CODEC_ID_PNG
                 : mime == "image/jpeg" ? AV_CODEC_ID_MJPEG
                                        : AV_CODEC_ID_WEBP;
  auto fail = [&](const std::string& why) { return make_error("cannot be decoded as " + mime + " (" + why + ")"); };
  // FFmpeg's MJPEG decoder returns a grey frame for a JPEG with a frame header and no
  // scan (T.81 B.2.3: SOS, FF DA): refuse those first.
  if (id == AV_CODEC_ID_MJPEG && image.bytes.find("\xFF\xDA") == std::string::npos)
    return fail("no image data: missing start of scan");
  const AVCodec* codec = avcodec_find_decoder(id);
  if (!codec) return fail("no decoder in this FFmpeg build");
  std::unique_ptr<AVCodecContext, CodecContextDeleter> ctx(avcodec_alloc_context3(codec));
  if (!ctx) return fail("out of memory");
  ctx->thread_count = 1;
  ctx->err_recognition = AV_EF_EXPLODE | AV_EF_CRCCHECK;  // refuse damage, never conceal it
  if (int rc = avcodec_open2(ctx.get(), codec, nullptr); rc < 0) return fail(av_error_text(rc));
  std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameDeleter> frame(av_frame_alloc());
  if (!packet || !frame || av_new_packet(packet.get(), static_cast<int>(image.bytes.size())) < 0)
    return fail("out of memory");
  std::memcpy(packet->data, image.bytes.data(), image.bytes.size());  // av_new_packet pads the buffer
  packet->flags |= AV_PKT_FLAG_KEY;
  if (int rc = avcodec_send_packet(ctx.get(), packet.get()); rc < 0) return fail(av_error_text(rc));
  (void)avcodec_send_packet(ctx.get(), nullptr);  // drain
  if (int rc = avcodec_receive_frame(ctx.get(), frame.get()); rc < 0) return fail(av_error_text(rc));
  if (frame->width != image.info.width || frame->height != image.info.height)
    return fail("the header says " + std::to_string(image.info.width) + "x" + std::to_string(image.info.height) +
                ", the pixels are " + std::to_string(frame->width) + "x" + std::to_string(frame->height));
  return {};
}

}  // namespace anchorcast::control
