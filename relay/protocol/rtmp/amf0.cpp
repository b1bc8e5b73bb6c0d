#include "relay/protocol/rtmp/amf0.hpp"

#include <bit>
#include <cstring>

#include "relay/protocol/bits/byte_writer.hpp"

namespace anchorcast::rtmp {

Amf0Value Amf0Value::make_number(double v) {
  Amf0Value out;
  out.type = Amf0Type::number;
  out.number = v;
  return out;
}

Amf0Value Amf0Value::make_boolean(bool v) {
  Amf0Value out;
  out.type = Amf0Type::boolean;
  out.boolean = v;
  return out;
}

Amf0Value Amf0Value::make_string(std::string v) {
  Amf0Value out;
  // AMF0 2.4/2.14: a string's length is 16 bits; longer text needs the long string form.
  out.type = v.size() > 0xFFFF ? Amf0Type::long_string : Amf0Type::string;
  out.string = std::move(v);
  return out;
}

Amf0Value Amf0Value::make_null() { return Amf0Value{}; }

Amf0Value Amf0Value::make_undefined() {
  Amf0Value out;
  out.type = Amf0Type::undefined;
  return out;
}

Amf0Value Amf0Value::make_object() { return make_object(std::vector<Amf0Property>{}); }
Amf0Value Amf0Value::make_ecma_array() { return make_ecma_array(std::vector<Amf0Property>{}); }

Amf0Value Amf0Value::make_object(std::vector<Amf0Property> props) {
  Amf0Value out;
  out.type = Amf0Type::object;
  out.properties = std::move(props);
  return out;
}

Amf0Value Amf0Value::make_ecma_array(std::vector<Amf0Property> props) {
  Amf0Value out;
  out.type = Amf0Type::ecma_array;
  out.properties = std::move(props);
  return out;
}

Amf0Value Amf0Value::make_strict_array(std::vector<Amf0Value> elems) {
  Amf0Value out;
  out.type = Amf0Type::strict_array;
  out.elements = std::move(elems);
  return out;
}

Amf0Value Amf0Value::make_date(double ms, int16_t timezone) {
  Amf0Value out;
  out.type = Amf0Type::date;
  out.number = ms;
  out.timezone = timezone;
  return out;
}

const Amf0Value* Amf0Value::get(std::string_view key) const {
  if (!has_properties()) return nullptr;
  for (const auto& p : properties)
    if (p.key == key) return &p.value;
  return nullptr;
}

std::optional<double> Amf0Value::get_number(std::string_view key) const {
  const Amf0Value* v = get(key);
  if (!v || v->type != Amf0Type::number) return std::nullopt;
  return v->number;
}

std::optional<std::string_view> Amf0Value::get_string(std::string_view key) const {
  const Amf0Value* v = get(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->string);
}

std::optional<bool> Amf0Value::get_boolean(std::string_view key) const {
  const Amf0Value* v = get(key);
  if (!v || v->type != Amf0Type::boolean) return std::nullopt;
  return v->boolean;
}

void Amf0Value::set(std::string key, Amf0Value value) {
  for (auto& p : properties) {
    if (p.key == key) {
      p.value = std::move(value);
      return;
    }
  }
  properties.push_back(Amf0Property{std::move(key), std::move(value)});
}

bool operator==(const Amf0Value& a, const Amf0Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case Amf0Type::number: return a.number == b.number;
    case Amf0Type::boolean: return a.boolean == b.boolean;
    case Amf0Type::string:
    case Amf0Type::long_string: return a.string == b.string;
    case Amf0Type::object:
    case Amf0Type::ecma_array: return a.properties == b.properties;
    case Amf0Type::strict_array: return a.elements == b.elements;
    case Amf0Type::date: return a.number == b.number && a.timezone == b.timezone;
    case Amf0Type::null:
    case Amf0Type::undefined:
    case Amf0Type::object_end: return true;
  }
  return false;
}

namespace {

class Decoder {
 public:
  Decoder(std::span<const uint8_t>& in, const Amf0Limits& limits) : in_(in), limits_(limits) {}

  Result<Amf0Value> value(int depth) {
    if (++values_ > limits_.max_total_values)
      return fail("more than " + std::to_string(limits_.max_total_values) + " values");
    if (in_.empty()) return fail("truncated: expected a type marker");
    uint8_t marker = take_u8();
    switch (marker) {
      case 0x00: {  // 2.2 Number: 8-byte IEEE-754 double, big-endian
        if (in_.size() < 8) return fail("truncated number");
        return Amf0Value::make_number(take_double());
      }
      case 0x01: {  // 2.3 Boolean
        if (in_.empty()) return fail("truncated boolean");
        return Amf0Value::make_boolean(take_u8() != 0);
      }
      case 0x02: {  // 2.4 String: u16 length + UTF-8
        auto s = short_string("string");
        if (!s) return s.error();
        Amf0Value v;
        v.type = Amf0Type::string;
        v.string = std::move(*s);
        return v;
      }
      case 0x0C: {  // 2.14 Long String: u32 length + UTF-8
        if (in_.size() < 4) return fail("truncated long string length");
        uint32_t n = take_u32();
        if (n > in_.size())
          return fail("long string length " + std::to_string(n) + " exceeds the " +
                      std::to_string(in_.size()) + " bytes left");
        Amf0Value v;
        v.type = Amf0Type::long_string;
        v.string.assign(reinterpret_cast<const char*>(in_.data()), n);
        in_ = in_.subspan(n);
        return v;
      }
      case 0x03: {  // 2.5 Object: (key, value)* then empty key + object-end marker
        Amf0Value v;
        v.type = Amf0Type::object;
        if (auto s = properties(v, depth, /*end_optional=*/false); !s) return s.error();
        return v;
      }
      case 0x05: return Amf0Value::make_null();       // 2.7
      case 0x06: return Amf0Value::make_undefined();  // 2.8
      case 0x08: {  // 2.10 ECMA Array: u32 count (advisory only) + object body
        if (in_.size() < 4) return fail("truncated ECMA array count");
        take_u32();  // encoders get this wrong often enough that readers ignore it
        Amf0Value v;
        v.type = Amf0Type::ecma_array;
        // Several encoders end onMetaData's ECMA array at the end of the message
        // without the end marker; accept that, only for ECMA arrays.
        if (auto s = properties(v, depth, /*end_optional=*/true); !s) return s.error();
        return v;
      }
      case 0x09: return fail("object-end marker outside an object");
      case 0x0A: {  // 2.12 Strict Array: u32 count + count values
        if (in_.size() < 4) return fail("truncated strict array count");
        uint32_t n = take_u32();
        if (n > limits_.max_elements)
          return fail("strict array of " + std::to_string(n) + " elements exceeds limit " +
                      std::to_string(limits_.max_elements));
        // Every value takes at least its marker byte: a count past the bytes left lies.
        if (n > in_.size())
          return fail("strict array count " + std::to_string(n) + " exceeds the " +
                      std::to_string(in_.size()) + " bytes left");
        if (depth + 1 > limits_.max_depth) return depth_error();
        Amf0Value v;
        v.type = Amf0Type::strict_array;
        v.elements.reserve(n);
        for (uint32_t i = 0; i < n; ++i) {
          auto e = value(depth + 1);
          if (!e) return e.error();
          v.elements.push_back(std::move(*e));
        }
        return v;
      }
      case 0x0B: {  // 2.13 Date: double ms + s16 time zone
        if (in_.size() < 10) return fail("truncated date");
        double ms = take_double();
        auto tz = static_cast<int16_t>(take_u16());
        return Amf0Value::make_date(ms, tz);
      }
      default: {
        static const char* hex = "0123456789abcdef";
        std::string m = "unsupported type marker 0x";
        m += hex[marker >> 4];
        m += hex[marker & 15];
        return fail(m);
      }
    }
  }

 private:
  Status properties(Amf0Value& v, int depth, bool end_optional) {
    if (depth + 1 > limits_.max_depth) return depth_error();
    for (;;) {
      if (end_optional && in_.empty()) return {};
      auto key = short_string("property name");
      if (!key) return key.error();
      if (key->empty()) {
        if (in_.empty()) {
          if (end_optional) return {};
          return fail("truncated: object without its end marker");
        }
        if (in_[0] == 0x09) {
          in_ = in_.subspan(1);
          return {};
        }
      }
      if (v.properties.size() >= limits_.max_elements)
        return fail("object with more than " + std::to_string(limits_.max_elements) + " properties");
      auto val = value(depth + 1);
      if (!val) return val.error();
      v.properties.push_back(Amf0Property{std::move(*key), std::move(*val)});
    }
  }

  Result<std::string> short_string(const char* what) {
    if (in_.size() < 2) return fail(std::string("truncated ") + what + " length");
    uint16_t n = take_u16();
    if (n > in_.size())
      return fail(std::string(what) + " length " + std::to_string(n) + " exceeds the " +
                  std::to_string(in_.size()) + " bytes left");
    std::string s(reinterpret_cast<const char*>(in_.data()), n);
    in_ = in_.subspan(n);
    return s;
  }

  Error depth_error() const {
    return make_error("amf0: nesting deeper than " + std::to_string(limits_.max_depth));
  }
  static Error fail(std::string what) { return make_error("amf0: " + what); }

  uint8_t take_u8() {
    uint8_t v = in_[0];
    in_ = in_.subspan(1);
    return v;
  }
  uint16_t take_u16() {
    uint16_t v = static_cast<uint16_t>(in_[0] << 8 | in_[1]);
    in_ = in_.subspan(2);
    return v;
  }
  uint32_t take_u32() {
    uint32_t v = uint32_t{in_[0]} << 24 | uint32_t{in_[1]} << 16 | uint32_t{in_[2]} << 8 | in_[3];
    in_ = in_.subspan(4);
    return v;
  }
  double take_double() {
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = bits << 8 | in_[i];
    in_ = in_.subspan(8);
    return std::bit_cast<double>(bits);
  }

  std::span<const uint8_t>& in_;
  const Amf0Limits& limits_;
  uint32_t values_ = 0;
};

void put_double(std::vector<uint8_t>& out, double d) {
  uint64_t bits = std::bit_cast<uint64_t>(d);
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(bits >> s));
}

void put_key(std::vector<uint8_t>& out, std::string_view key) {
  // Property names are UTF-8-empty-or-short strings; a longer key cannot be encoded,
  // so it is cut (callers never build such keys).
  size_t n = key.size() > 0xFFFF ? 0xFFFF : key.size();
  bits::append_be16(out, static_cast<uint16_t>(n));
  out.insert(out.end(), key.begin(), key.begin() + static_cast<std::ptrdiff_t>(n));
}

void put_properties(std::vector<uint8_t>& out, const std::vector<Amf0Property>& props) {
  for (const auto& p : props) {
    put_key(out, p.key);
    encode_amf0(p.value, out);
  }
  bits::append_be16(out, 0);
  out.push_back(0x09);
}

}  // namespace

Result<Amf0Value> decode_amf0_value(std::span<const uint8_t>& in, const Amf0Limits& limits) {
  Decoder d(in, limits);
  return d.value(0);
}

Result<std::vector<Amf0Value>> decode_amf0(std::span<const uint8_t> in, const Amf0Limits& limits) {
  std::vector<Amf0Value> out;
  Decoder d(in, limits);  // one Decoder: max_total_values counts across the message
  while (!in.empty()) {
    auto v = d.value(0);
    if (!v) return v.error();
    out.push_back(std::move(*v));
  }
  return out;
}

void encode_amf0(const Amf0Value& v, std::vector<uint8_t>& out) {
  switch (v.type) {
    case Amf0Type::number:
      out.push_back(0x00);
      put_double(out, v.number);
      return;
    case Amf0Type::boolean:
      out.push_back(0x01);
      out.push_back(v.boolean ? 1 : 0);
      return;
    case Amf0Type::string:
    case Amf0Type::long_string:
      if (v.type == Amf0Type::string && v.string.size() <= 0xFFFF) {
        out.push_back(0x02);
        bits::append_be16(out, static_cast<uint16_t>(v.string.size()));
      } else {
        out.push_back(0x0C);
        bits::append_be32(out, static_cast<uint32_t>(v.string.size()));
      }
      out.insert(out.end(), v.string.begin(), v.string.end());
      return;
    case Amf0Type::object:
      out.push_back(0x03);
      put_properties(out, v.properties);
      return;
    case Amf0Type::null: out.push_back(0x05); return;
    case Amf0Type::undefined: out.push_back(0x06); return;
    case Amf0Type::ecma_array:
      out.push_back(0x08);
      bits::append_be32(out, static_cast<uint32_t>(v.properties.size()));
      put_properties(out, v.properties);
      return;
    case Amf0Type::object_end:
      // Only meaningful inside an object, where put_properties writes it.
      bits::append_be16(out, 0);
      out.push_back(0x09);
      return;
    case Amf0Type::strict_array:
      out.push_back(0x0A);
      bits::append_be32(out, static_cast<uint32_t>(v.elements.size()));
      for (const auto& e : v.elements) encode_amf0(e, out);
      return;
    case Amf0Type::date:
      out.push_back(0x0B);
      put_double(out, v.number);
      bits::append_be16(out, static_cast<uint16_t>(v.timezone));
      return;
  }
}

std::vector<uint8_t> encode_amf0(std::span<const Amf0Value> values) {
  std::vector<uint8_t> out;
  for (const auto& v : values) encode_amf0(v, out);
  return out;
}

}  // namespace anchorcast::rtmp
