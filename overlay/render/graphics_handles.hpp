// RAII for the Cairo, Pango and GLib handles the renderer holds: a unique_ptr with a
// deleter per C type, so no path forgets a destroy or an unref.
#pragma once

#include <memory>

#include <cairo.h>
#include <glib-object.h>
#include <pango/pango.h>

namespace anchorcast::overlay::render {

struct CairoDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};
struct CairoSurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoFontOptionsDeleter {
  void operator()(cairo_font_options_t* o) const { cairo_font_options_destroy(o); }
};
struct GObjectDeleter {
  void operator()(void* object) const { g_object_unref(object); }
};
struct PangoAttrListDeleter {
  void operator()(PangoAttrList* list) const { pango_attr_list_unref(list); }
};
struct PangoFontDescriptionDeleter {
  void operator()(PangoFontDescription* d) const { pango_font_description_free(d); }
};

using CairoPtr = std::unique_ptr<cairo_t, CairoDeleter>;
using CairoSurfacePtr = std::unique_ptr<cairo_surface_t, CairoSurfaceDeleter>;
using CairoFontOptionsPtr = std::unique_ptr<cairo_font_options_t, CairoFontOptionsDeleter>;
using PangoFontMapPtr = std::unique_ptr<PangoFontMap, GObjectDeleter>;
using PangoContextPtr = std::unique_ptr<PangoContext, GObjectDeleter>;
using PangoLayoutPtr = std::unique_ptr<PangoLayout, GObjectDeleter>;
using PangoAttrListPtr = std::unique_ptr<PangoAttrList, PangoAttrListDeleter>;
using PangoFontDescriptionPtr = std::unique_ptr<PangoFontDescription, PangoFontDescriptionDeleter>;

}  // namespace anchorcast::overlay::render
