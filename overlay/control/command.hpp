// The merchant control protocol (contract: "Commerce control channel"): one JSON text
// frame → one validated Command, or a CommandError with the contract's code and a message
// that names the field ("sale.stock: must be an integer >= 0"). Pure: no clock, no I/O;
// images in data: URIs are decoded and checked here so a bad one is refused before ack.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "overlay/control/image_probe.hpp"

namespace anchorcast::control {

enum class ErrorCode { bad_json, unknown_type, invalid, not_found, rate_limited };
const char* error_code_name(ErrorCode code);

struct CommandError {
  ErrorCode code;
  std::string message;
};

// Caps on what a merchant may send (a frame itself is capped at 1 MiB by the socket).
constexpr size_t kMaxJsonDepth = 16;
constexpr size_t kMaxTitleChars = 200;
constexpr size_t kMaxPriceChars = 32;
constexpr size_t kMaxBadgeChars = 16;
constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxIdBytes = 64;
constexpr size_t kMaxReqBytes = 128;
constexpr int64_t kMaxStock = 1'000'000'000;
constexpr int64_t kMaxDurationMs = 7LL * 24 * 3600 * 1000;
constexpr int64_t kMaxUnixMs = 4102444800000LL;  // 2100-01-01

enum class Position { top_left, top_right, bottom_left, bottom_right };
const char* position_name(Position p);

enum class OverlayKind { card, sale };

// What card.show / sale.start put on screen. The state machine fills the timing fields.
struct Overlay {
  OverlayKind kind = OverlayKind::card;
  std::string id;
  std::string title;
  std::string price;
  std::string original_price;  // "" = none
  std::string url;
  std::string badge;
  std::string locale = "zh";
  Position position = Position::bottom_left;
  std::string image;  // asset id ("img-…") or "" for none
  int64_t duration_ms = 0;  // 0 = until hidden (cards); sales: countdown length
  std::optional<int64_t> ends_at_ms;  // sales: wall-clock end given instead of duration_ms
  int64_t stock = 0;                  // sales
};

enum class CommandType { card_show, card_hide, sale_start, sale_update, sale_end, overlay_clear, schedule_cancel };
const char* command_type_name(CommandType t);

struct Command {
  CommandType type = CommandType::overlay_clear;
  std::string req;
  std::optional<int64_t> at_ms;  // scheduling (extension): take effect at this Unix ms
  std::string id;                // card.hide, sale.update, sale.end, schedule.cancel
  Overlay overlay;               // card.show, sale.start
  // card.show / sale.start with a data: URI: the decoded image, stored as asset
  // overlay.image before the command takes effect.
  std::shared_ptr<const DecodedImage> image;
  // sale.update: what changes.
  std::optional<int64_t> stock;
  std::optional<std::string> price;
  std::optional<int64_t> update_ends_at_ms;
};

struct ParseOutcome {
  std::optional<std::string> req;  // echoed in the error reply when it could be read
  std::variant<Command, CommandError> result;
  bool ok() const { return result.index() == 0; }
  Command& command() { return std::get<Command>(result); }
  const CommandError& error() const { return std::get<CommandError>(result); }
};

// Bytes of one text frame → a command. Never throws.
ParseOutcome parse_command(std::string_view text);

// A command back to its JSON form (images as asset ids): scheduled commands are stored
// this way and parse again with parse_command.
std::string command_to_json(const Command& command);

// Helpers shared with the state machine.
bool is_valid_utf8(std::string_view s);
size_t utf8_length(std::string_view s);  // code points of valid UTF-8

}  // namespace anchorcast::control
