// The `stats` message (pure: unit-tested); StatsPush is in anchorcast/overlay/audience.hpp.
#pragma once

#include <string>

#include "anchorcast/overlay/audience.hpp"

namespace anchorcast {

std::string stats_json(const ViewerEvents::Counts* counts, int viewers);

}  // namespace anchorcast
