// AMF0 (Adobe "Action Message Format -- AMF 0", 2007): the encoding of RTMP command and
// data messages. decode_amf0 trusts nothing: every length is checked against the bytes
// left, nesting and element counts are capped.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::rtmp {

// AMF0 spec section 2.1 type markers.
enum class Amf0Type : uint8_t {
  number = 0x00,
  boolean = 0x01,
  string = 0x02,
  object = 0x03,
  null = 0x05,
  undefined = 0x06,
  ecma_array = 0x08,
  object_end = 0x09,
  strict_array = 0x0A,
  date = 0x0B,
  long_string = 0x0C,
};

struct Amf0Property;

struct Amf0Value {
  Amf0Type type = Amf0Type::null;
  double number = 0;        // number; date: milliseconds since the Unix epoch
  bool boolean = false;
  int16_t timezone = 0;     // date only (spec: reserved, should be 0)
  std::string string;       // string, long_string
  std::vector<Amf0Property> properties;  // object, ecma_array (in wire order)
  std::vector<Amf0Value> elements;       // strict_array

  static Amf0Value make_number(double v);
  static Amf0Value make_boolean(bool v);
  static Amf0Value make_string(std::string v);  // long_string when over 65535 bytes
  static Amf0Value make_null();
  static Amf0Value make_undefined();
  // (Overloads, not default arguments: Amf0Property is incomplete here.)
  static Amf0Value make_object();
  static Amf0Value make_object(std::vector<Amf0Property> props);
  static Amf0Value make_ecma_array();
  static Amf0Value make_ecma_array(std::vector<Amf0Property> props);
  static Amf0Value make_strict_array(std::vector<Amf0Value> elems);
  static Amf0Value make_date(double ms, int16_t timezone = 0);

  bool is_string() const { return type == Amf0Type::string || type == Amf0Type::long_string; }
  bool has_properties() const { return type == Amf0Type::object || type == Amf0Type::ecma_array; }
  // Property lookup on an object or ECMA array: first match, nullptr when absent.
  const Amf0Value* get(std::string_view key) const;
  std::optional<double> get_number(std::string_view key) const;
  std::optional<std::string_view> get_string(std::string_view key) const;
  std::optional<bool> get_boolean(std::string_view key) const;
  void set(std::string key, Amf0Value value);  // replaces or appends

  friend bool operator==(const Amf0Value&, const Amf0Value&);
};

struct Amf0Property {
  std::string key;
  Amf0Value value;
  friend bool operator==(const Amf0Property&, const Amf0Property&) = default;
};

struct Amf0Limits {
  int max_depth = 32;                 // nested objects/arrays
  uint32_t max_elements = 65536;      // per object, ECMA array or strict array
  uint32_t max_total_values = 1 << 20;  // per decode call
};

// Decodes one value from the front of `in` and advances `in` past it.
Result<Amf0Value> decode_amf0_value(std::span<const uint8_t>& in, const Amf0Limits& limits = {});
// Decodes values until `in` is exhausted (a command or data message body).
Result<std::vector<Amf0Value>> decode_amf0(std::span<const uint8_t> in, const Amf0Limits& limits = {});

void encode_amf0(const Amf0Value& value, std::vector<uint8_t>& out);
std::vector<uint8_t> encode_amf0(std::span<const Amf0Value> values);

}  // namespace anchorcast::rtmp
