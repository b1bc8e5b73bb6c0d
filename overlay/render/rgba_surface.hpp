// RgbaImage ⇄ Cairo image surface. Cairo's ARGB32 is premultiplied in native-endian
// uint32 (B,G,R,A bytes on little endian); RgbaImage is R,G,B,A bytes on every host.
#pragma once

#include "overlay/render/card_renderer.hpp"
#include "overlay/render/graphics_handles.hpp"

namespace anchorcast::overlay::render {

RgbaImage rgba_from_surface(cairo_surface_t* surface);
// An ARGB32 surface holding a copy of `image`; a null surface when cairo cannot allocate.
CairoSurfacePtr surface_from_rgba(const RgbaImage& image);

}  // namespace anchorcast::overlay::render
