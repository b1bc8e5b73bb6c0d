// libFuzzer target: the data plane's HTTP/1.x request-head parser. Invariants: a parsed
// head lies within the limit and the input, every view points into the input, the head's
// own bytes parse to the same head, and any shorter prefix of them asks for more.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "relay/protocol/http1/request_head.hpp"

using namespace anchorcast::http1;

namespace {

constexpr size_t kLimit = 4096;

void check_inside(std::string_view view, std::string_view input) {
  if (view.empty()) return;
  if (view.data() < input.data() || view.data() + view.size() > input.data() + input.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto result = parse_request_head(input, kLimit);
  auto* head = std::get_if<RequestHead>(&result);
  if (!head) return 0;
  if (head->size > kLimit || head->size > size || head->fields.size() > kMaxFields) std::abort();
  check_inside(head->method, input);
  check_inside(head->target, input);
  for (const auto& [name, value] : head->fields) {
    check_inside(name, input);
    check_inside(value, input);
  }
  (void)head->keep_alive();
  (void)head->has_body();
  auto again = parse_request_head(input.substr(0, head->size), kLimit);
  auto* same = std::get_if<RequestHead>(&again);
  if (!same || same->size != head->size || same->target != head->target || same->fields != head->fields) std::abort();
  if (!std::holds_alternative<NeedMore>(parse_request_head(input.substr(0, head->size / 2), kLimit))) std::abort();
  return 0;
}
