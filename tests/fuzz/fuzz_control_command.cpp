// libFuzzer target: one control-channel text frame through the command parser and
// validator (JSON, depth cap, field rules, data: URI images), and the result back
// through command_to_json / parse_command (scheduled commands are stored that way).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "overlay/control/command.hpp"
#include "overlay/control/image_probe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = anchorcast::control::parse_command(text);
  if (parsed.ok()) {
    auto again = anchorcast::control::parse_command(anchorcast::control::command_to_json(parsed.command()));
    if (!again.ok()) __builtin_trap();  // what we store must parse again
  }
  (void)anchorcast::control::probe_image(text);
  (void)anchorcast::control::decode_base64(text, 1 << 16);
  return 0;
}
