// The limits of a merchant session (include/anchorcast/overlay/merchant_session.hpp).
#pragma once

#include <cstddef>

#include "anchorcast/overlay/merchant_session.hpp"

namespace anchorcast::control {

// Replies waiting for earlier ones: past this the session stops reading until the writer
// catches up (a client that never reads cannot grow our memory); it reads again below half.
constexpr size_t kMaxPendingReplies = 4096;
// Messages queued for a merchant that does not read its socket: past this it is dropped
// (its `applied` events would otherwise grow without bound).
constexpr size_t kMaxQueuedMessages = 16384;

}  // namespace anchorcast::control
