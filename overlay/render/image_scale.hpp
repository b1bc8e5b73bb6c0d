// Product images on a card are squares: scale to cover the square, crop the centre
// (CSS object-fit: cover), so any aspect ratio fills the slot without bars.
#pragma once

#include "render/card_renderer.hpp"

namespace anchorcast::overlay::render {

// `side`×`side` premultiplied RGBA; empty when `image` is empty or libswscale refuses.
RgbaImage cover_square(const RgbaImage& image, int side);

}  // namespace anchorcast::overlay::render
