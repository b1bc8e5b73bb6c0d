#include "overlay/control/image_decoder.hpp"

#include <cstring>

namespace anchorcast::control {

namespace {

Result<AvFramePtr> decode_frame(std::string_view bytes, const std::string& mime) {
  AVCodecID id = mime == "image/png"    ? AV_CODEC_ID_PNG
                 : mime == "image/jpeg" ? AV_CODEC_ID_MJPEG
                                        : AV_CODEC_ID_WEBP;
  // FFmpeg's MJPEG decoder returns a grey frame for a JPEG with a frame header and no
  // scan (T.81 B.2.3: SOS, FF DA): refuse those first.
  if (id == AV_CODEC_ID_MJPEG && bytes.find("\xFF\xDA") == std::string_view::npos)
    return make_error("no image data: missing start of scan");
  const AVCodec* codec = avcodec_find_decoder(id);
  if (!codec) return make_error("no decoder in this FFmpeg build");
  AvCodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return make_error("out of memory");
  ctx->thread_count = 1;
  ctx->err_recognition = AV_EF_EXPLODE | AV_EF_CRCCHECK;  // refuse damage, never conceal it
  if (int rc = avcodec_open2(ctx.get(), codec, nullptr); rc < 0) return make_error(av_error_text(rc));
  AvPacketPtr packet(av_packet_alloc());
  AvFramePtr frame(av_frame_alloc());
  if (!packet || !frame || av_new_packet(packet.get(), static_cast<int>(bytes.size())) < 0)
    return make_error("out of memory");
  std::memcpy(packet->data, bytes.data(), bytes.size());  // av_new_packet pads the buffer
  packet->flags |= AV_PKT_FLAG_KEY;
  if (int rc = avcodec_send_packet(ctx.get(), packet.get()); rc < 0) return make_error(av_error_text(rc));
  (void)avcodec_send_packet(ctx.get(), nullptr);  // drain
  if (int rc = avcodec_receive_frame(ctx.get(), frame.get()); rc < 0) return make_error(av_error_text(rc));
  return frame;
}

}  // namespace

Result<AvFramePtr> decode_image_frame(std::string_view bytes, const ImageInfo& info) {
  auto frame = decode_frame(bytes, info.mime);
  if (!frame) return make_error("cannot be decoded as " + info.mime + " (" + frame.error().message + ")");
  const AVFrame& f = **frame;
  if (f.width != info.width || f.height != info.height)
    return make_error("cannot be decoded as " + info.mime + " (the header says " + std::to_string(info.width) + "x" +
                      std::to_string(info.height) + ", the pixels are " + std::to_string(f.width) + "x" +
                      std::to_string(f.height) + ")");
  return frame;
}

Status verify_image_decodes(const DecodedImage& image) {
  auto frame = decode_image_frame(image.bytes, image.info);
  if (!frame) return frame.error();
  return {};
}

}  // namespace anchorcast::control
