#include "overlay/control/image_decoder.hpp"

#include <gtest/gtest.h>

#include "test_images.hpp"

namespace anchorcast::control {
namespace {

TEST(ImageDecoder, RealImageDecodes) {
  auto bytes = test::real_png_1x1();
  auto info = probe_image(bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(verify_image_decodes(DecodedImage{*info, bytes}).ok());
}

TEST(ImageDecoder, HeaderWithoutPixelsOrDamagedDataIsRefused) {
  for (auto bytes : {test::png_bytes(16, 16), test::jpeg_bytes(16, 16), test::webp_vp8x_bytes(16, 16)}) {
    auto info = probe_image(bytes);
    ASSERT_TRUE(info.ok());
    auto st = verify_image_decodes(DecodedImage{*info, bytes});
    EXPECT_FALSE(st.ok()) << info->mime;
    if (!st.ok()) {
      EXPECT_NE(st.error().message.find("cannot be decoded as " + info->mime), std::string::npos);
    }
  }
  auto damaged = test::real_png_1x1();
  damaged[45] ^= 0x55;  // inside IDAT: the CRC no longer matches
  auto info = probe_image(damaged);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(verify_image_decodes(DecodedImage{*info, damaged}).ok());
}

}  // namespace
}  // namespace anchorcast::control
