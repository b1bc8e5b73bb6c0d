// Built only by the ctest boundaries.private_header_refused, with egress's include path:
// the build must fail on this line, because the GOP cache is private to the hub.
#include "relay/hub/gop_cache.hpp"
