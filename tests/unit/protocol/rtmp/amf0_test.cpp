#include "relay/protocol/rtmp/amf0.hpp"

#include <gtest/gtest.h>

namespace anchorcast::rtmp {
namespace {

Amf0Value round_trip(const Amf0Value& v) {
  std::vector<uint8_t> bytes;
  encode_amf0(v, bytes);
  std::span<const uint8_t> in = bytes;
  auto back = decode_amf0_value(in);
  EXPECT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(in.empty());
  return back.ok() ? *back : Amf0Value{};
}

std::string decode_error(std::vector<uint8_t> bytes, Amf0Limits limits = {}) {
  auto r = decode_amf0(bytes, limits);
  return r.ok() ? "" : r.error().message;
}

TEST(Amf0, RoundTripsEveryType) {
  std::vector<Amf0Value> values = {
      Amf0Value::make_number(0),
      Amf0Value::make_number(-1.5e300),
      Amf0Value::make_boolean(true),
      Amf0Value::make_boolean(false),
      Amf0Value::make_string(""),
      Amf0Value::make_string("真丝连衣裙 Silk dress"),
      Amf0Value::make_string(std::string(70000, 'x')),  // becomes a long string
      Amf0Value::make_null(),
      Amf0Value::make_undefined(),
      Amf0Value::make_date(1700000000000.0, 0),
      Amf0Value::make_strict_array({Amf0Value::make_number(1), Amf0Value::make_string("two"),
                                    Amf0Value::make_null()}),
      Amf0Value::make_ecma_array({{"width", Amf0Value::make_number(1280)}, {"height", Amf0Value::make_number(720)}}),
      Amf0Value::make_object({{"app", Amf0Value::make_string("live")},
                              {"nested", Amf0Value::make_object({{"deep", Amf0Value::make_boolean(true)}})},
                              {"", Amf0Value::make_number(5)}}),  // an empty key is legal mid-object
  };
  for (const auto& v : values) EXPECT_EQ(round_trip(v), v);
  EXPECT_EQ(round_trip(values[6]).type, Amf0Type::long_string);
}

TEST(Amf0, EncodesTheConnectCommandLikeFfmpeg) {
  std::vector<uint8_t> out;
  encode_amf0(Amf0Value::make_string("connect"), out);
  encode_amf0(Amf0Value::make_number(1), out);
  encode_amf0(Amf0Value::make_object({{"app", Amf0Value::make_string("live")}}), out);
  const std::vector<uint8_t> expected = {
      0x02, 0x00, 0x07, 'c', 'o', 'n', 'n', 'e', 'c', 't',  // string "connect"
      0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0,                   // number 1.0
      0x03, 0x00, 0x03, 'a', 'p', 'p', 0x02, 0x00, 0x04, 'l', 'i', 'v', 'e',  // {app: "live"
      0x00, 0x00, 0x09,                                     // }
  };
  EXPECT_EQ(out, expected);
}

TEST(Amf0, DecodesSeveralValuesAndLooksUpProperties) {
  std::vector<uint8_t> bytes;
  encode_amf0(Amf0Value::make_string("onMetaData"), bytes);
  encode_amf0(Amf0Value::make_ecma_array({{"width", Amf0Value::make_number(1920)},
                                          {"encoder", Amf0Value::make_string("obs")},
                                          {"stereo", Amf0Value::make_boolean(true)}}),
              bytes);
  auto values = decode_amf0(bytes);
  ASSERT_TRUE(values.ok());
  ASSERT_EQ(values->size(), 2u);
  const Amf0Value& meta = (*values)[1];
  EXPECT_EQ(meta.get_number("width"), 1920.0);
  EXPECT_EQ(meta.get_string("encoder"), "obs");
  EXPECT_EQ(meta.get_boolean("stereo"), true);
  EXPECT_EQ(meta.get_number("encoder"), std::nullopt);  // wrong type
  EXPECT_EQ(meta.get("missing"), nullptr);
  EXPECT_EQ((*values)[0].get("width"), nullptr);  // not an object
}

TEST(Amf0, SetReplacesOrAppends) {
  Amf0Value obj = Amf0Value::make_object();
  obj.set("a", Amf0Value::make_number(1));
  obj.set("b", Amf0Value::make_number(2));
  obj.set("a", Amf0Value::make_number(3));
  ASSERT_EQ(obj.properties.size(), 2u);
  EXPECT_EQ(obj.get_number("a"), 3.0);
}

TEST(Amf0, AcceptsEcmaArrayWithoutEndMarkerAtEndOfInput) {
  // Some encoders end onMetaData's ECMA array with the message.
  std::vector<uint8_t> bytes = {0x08, 0, 0, 0, 1, 0x00, 0x01, 'w', 0x00, 0x40, 0x94, 0, 0, 0, 0, 0, 0};
  auto v = decode_amf0(bytes);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ((*v)[0].get_number("w"), 1280.0);
}

TEST(Amf0, IgnoresTheEcmaArrayCount) {
  std::vector<uint8_t> bytes = {0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x09};
  auto v = decode_amf0(bytes);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE((*v)[0].properties.empty());
}

TEST(Amf0, RejectsTruncatedValues) {
  EXPECT_EQ(decode_error({0x00, 0x3F, 0xF0}), "amf0: truncated number");
  EXPECT_EQ(decode_error({0x01}), "amf0: truncated boolean");
  EXPECT_EQ(decode_error({0x02, 0x00}), "amf0: truncated string length");
  EXPECT_EQ(decode_error({0x02, 0x00, 0x05, 'a', 'b'}), "amf0: string length 5 exceeds the 2 bytes left");
  EXPECT_EQ(decode_error({0x0B, 0, 0, 0, 0, 0, 0, 0, 0, 0}), "amf0: truncated date");
  EXPECT_EQ(decode_error({0x03, 0x00, 0x01, 'a', 0x05}), "amf0: truncated property name length");
  EXPECT_EQ(decode_error({0x03, 0x00, 0x00}), "amf0: truncated: object without its end marker");
  EXPECT_EQ(decode_error({0x03, 0x00, 0x01, 'a'}), "amf0: truncated: expected a type marker");
}

TEST(Amf0, RejectsHugeDeclaredLengths) {
  EXPECT_EQ(decode_error({0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 'a'}),
            "amf0: long string length 4294967295 exceeds the 1 bytes left");
  EXPECT_EQ(decode_error({0x0A, 0x00, 0x00, 0x10, 0x00, 0x05}),
            "amf0: strict array count 4096 exceeds the 1 bytes left");
  EXPECT_EQ(decode_error({0x0A, 0xFF, 0xFF, 0xFF, 0xFF}),
            "amf0: strict array of 4294967295 elements exceeds limit 65536");
}

TEST(Amf0, RejectsDepthBombs) {
  std::vector<uint8_t> objects;
  for (int i = 0; i < 10000; ++i) {
    objects.push_back(0x03);
    objects.push_back(0x00);
    objects.push_back(0x01);
    objects.push_back('k');
  }
  EXPECT_EQ(decode_error(objects), "amf0: nesting deeper than 32");
  std::vector<uint8_t> arrays;
  for (int i = 0; i < 10000; ++i) arrays.insert(arrays.end(), {0x0A, 0, 0, 0, 1});
  EXPECT_EQ(decode_error(arrays), "amf0: nesting deeper than 32");

  // 31 levels are fine.
  std::vector<uint8_t> ok;
  for (int i = 0; i < 31; ++i) ok.insert(ok.end(), {0x0A, 0, 0, 0, 1});
  ok.push_back(0x05);
  EXPECT_EQ(decode_error(ok), "");
}

TEST(Amf0, RejectsUnsupportedMarkersAndStrayObjectEnd) {
  EXPECT_EQ(decode_error({0x11}), "amf0: unsupported type marker 0x11");  // AMF3 switch
  EXPECT_EQ(decode_error({0x10}), "amf0: unsupported type marker 0x10");  // typed object
  EXPECT_EQ(decode_error({0x09}), "amf0: object-end marker outside an object");
}

TEST(Amf0, CapsPropertiesAndTotalValues) {
  Amf0Limits limits;
  limits.max_elements = 2;
  auto obj = Amf0Value::make_object({{"a", Amf0Value::make_null()},
                                     {"b", Amf0Value::make_null()},
                                     {"c", Amf0Value::make_null()}});
  std::vector<uint8_t> bytes;
  encode_amf0(obj, bytes);
  EXPECT_EQ(decode_error(bytes, limits), "amf0: object with more than 2 properties");

  Amf0Limits few;
  few.max_total_values = 3;
  EXPECT_EQ(decode_error({0x05, 0x05, 0x05, 0x05}, few), "amf0: more than 3 values");
}

}  // namespace
}  // namespace anchorcast::rtmp
