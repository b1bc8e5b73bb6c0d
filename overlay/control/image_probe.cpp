#include "overlay/control/image_probe.hpp"

#include <openssl/sha.h>

namespace anchorcast::control {

namespace {

int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // also base64url
  if (c == '/' || c == '_') return 63;
  return -1;
}

uint32_t be16(std::string_view b, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(b[at])) << 8) | static_cast<unsigned char>(b[at + 1]);
}
uint32_t be32(std::string_view b, size_t at) { return (be16(b, at) << 16) | be16(b, at + 2); }
uint32_t le16(std::string_view b, size_t at) {
  return static_cast<unsigned char>(b[at]) | (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8);
}
uint32_t le24(std::string_view b, size_t at) {
  return le16(b, at) | (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16);
}

Result<ImageInfo> probe_png(std::string_view b) {
  // PNG spec 5.2/11.2.2: the signature, then IHDR first: length 13, width, height.
  if (b.size() < 24 || b.substr(12, 4) != "IHDR") return make_error("PNG without an IHDR header");
  return ImageInfo{"image/png", static_cast<int>(std::min<uint32_t>(be32(b, 16), 1u << 30)),
                   static_cast<int>(std::min<uint32_t>(be32(b, 20), 1u << 30))};
}

Result<ImageInfo> probe_jpeg(std::string_view b) {
  // ITU T.81 B.1: markers FF xx with a 16-bit length; SOFn carries height then width.
  size_t at = 2;
  while (at + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[at]) != 0xFF) return make_error("JPEG with a broken marker segment");
    unsigned char marker = static_cast<unsigned char>(b[at + 1]);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      at += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) break;  // end of image / start of scan before SOF
    size_t len = be16(b, at + 2);
    if (len < 2) return make_error("JPEG with a broken marker segment");
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (at + 9 > b.size() || len < 7) return make_error("JPEG with a truncated frame header");
      return ImageInfo{"image/jpeg", static_cast<int>(be16(b, at + 7)), static_cast<int>(be16(b, at + 5))};
    }
    at += 2 + len;
  }
  return make_error("JPEG without a frame header (SOF)");
}

Result<ImageInfo> probe_webp(std::string_view b) {
  // RIFF container; the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).
  if (b.size() < 30) return make_error("WebP too short");
  std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {
    // RFC 6386 9.1: 3-byte frame tag, start code 9d 01 2a, 14-bit width and height.
    if (static_cast<unsigned char>(b[23]) != 0x9d || static_cast<unsigned char>(b[24]) != 0x01 ||
        static_cast<unsigned char>(b[25]) != 0x2a)
      return make_error("WebP (VP8) without a key frame start code");
    return ImageInfo{"image/webp", static_cast<int>(le16(b, 26) & 0x3FFF), static_cast<int>(le16(b, 28) & 0x3FFF)};
  }
  if (chunk == "VP8L") {
    if (static_cast<unsigned char>(b[20]) != 0x2f) return make_error("WebP (VP8L) without its signature");
    uint32_t bits = le16(b, 21) | (static_cast<uint32_t>(le16(b, 23)) << 16);
    return ImageInfo{"image/webp", static_cast<int>((bits & 0x3FFF) + 1), static_cast<int>(((bits >> 14) & 0x3FFF) + 1)};
  }
  if (chunk == "VP8X")
    return ImageInfo{"image/webp", static_cast<int>(le24(b, 24) + 1), static_cast<int>(le24(b, 27) + 1)};
  return make_error("WebP with an unknown first chunk");
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text, size_t max_bytes) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  if (text.size() / 4 * 3 + (text.size() % 4 ? text.size() % 4 - 1 : 0) > max_bytes) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : text) {
    int v = base64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

Result<ImageInfo> probe_image(std::string_view b) {
  if (b.empty()) return make_error("empty image");
  if (b.size() > kMaxImageBytes) return make_error("image larger than 1 MiB");
  Result<ImageInfo> info = make_error("not a PNG, JPEG or WebP image");
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) info = probe_png(b);
  else if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") info = probe_jpeg(b);
  else if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") info = probe_webp(b);
  if (!info) return info;
  if (info->width <= 0 || info->height <= 0) return make_error("image has no width or height");
  if (info->width > kMaxImageSide || info->height > kMaxImageSide)
    return make_error(std::to_string(info->width) + "x" + std::to_string(info->height) +
                      " is larger than 4096x4096");
  return info;
}

Result<DecodedImage> decode_data_uri(std::string_view uri) {
  // RFC 2397: data:[<mediatype>][;base64],<data>; only base64 images are accepted.
  if (uri.substr(0, 5) != "data:") return make_error("must be a data: URI or an asset id");
  auto comma = uri.find(',');
  if (comma == std::string_view::npos) return make_error("data: URI without a comma");
  std::string_view meta = uri.substr(5, comma - 5);
  if (meta.size() < 7 || meta.substr(meta.size() - 7) != ";base64") return make_error("data: URI must be base64");
  std::string_view payload = uri.substr(comma + 1);
  if (payload.size() > (kMaxImageBytes / 3 + 1) * 4 + 4) return make_error("image larger than 1 MiB");
  auto bytes = decode_base64(payload, kMaxImageBytes);
  if (!bytes) return make_error("invalid base64 in data: URI");
  auto info = probe_image(*bytes);
  if (!info) return info.error();
  return DecodedImage{*info, std::move(*bytes)};
}

std::string asset_id_for(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string id = "img-";
  for (int i = 0; i < 8; ++i) {
    id.push_back(hex[digest[i] >> 4]);
    id.push_back(hex[digest[i] & 15]);
  }
  return id;
}

}  // namespace anchorcast::control
