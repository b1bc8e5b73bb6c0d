#include "overlay/control/command.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_images.hpp"

namespace anchorcast::control {
namespace {

using nlohmann::json;

const char* kCard = R"({"type":"card.show","req":"1","card":{"id":"c1","title":"真丝连衣裙 Silk dress",
  "price":"¥299","original_price":"¥599","position":"bottom-left","duration_ms":0}})";
const char* kSale = R"({"type":"sale.start","req":"3","sale":{"id":"s1","title":"限时秒杀 Flash sale",
  "price":"¥9.9","original_price":"¥99","stock":500,"duration_ms":60000,"position":"top-right"}})";

CommandError error_of(const std::string& text) {
  auto out = parse_command(text);
  EXPECT_FALSE(out.ok()) << text;
  return out.ok() ? CommandError{ErrorCode::invalid, "<parsed>"} : out.error();
}

std::string with(const char* base, const std::string& path, const json& value) {
  json j = json::parse(base);
  auto dot = path.find('.');
  if (dot == std::string::npos) {
    if (value.is_null()) j.erase(path);
    else j[path] = value;
  } else {
    auto& obj = j[path.substr(0, dot)];
    if (value.is_discarded()) obj.erase(path.substr(dot + 1));
    else obj[path.substr(dot + 1)] = value;
  }
  return j.dump();
}
const json kRemove = json(json::value_t::discarded);

TEST(ControlCommand, ParsesEveryContractCommand) {
  auto card = parse_command(kCard);
  ASSERT_TRUE(card.ok());
  EXPECT_EQ(card.command().type, CommandType::card_show);
  EXPECT_EQ(card.command().req, "1");
  EXPECT_EQ(card.command().overlay.title, "真丝连衣裙 Silk dress");
  EXPECT_EQ(card.command().overlay.original_price, "¥599");
  EXPECT_EQ(card.command().overlay.position, Position::bottom_left);
  auto sale = parse_command(kSale);
  ASSERT_TRUE(sale.ok());
  EXPECT_EQ(sale.command().overlay.kind, OverlayKind::sale);
  EXPECT_EQ(sale.command().overlay.stock, 500);
  EXPECT_EQ(sale.command().overlay.duration_ms, 60000);
  for (auto [text, type] : {std::pair{R"({"type":"card.hide","req":"2","id":"c1"})", CommandType::card_hide},
                            {R"({"type":"sale.update","req":"4","id":"s1","stock":123})", CommandType::sale_update},
                            {R"({"type":"sale.end","req":"5","id":"s1"})", CommandType::sale_end},
                            {R"({"type":"overlay.clear","req":"6"})", CommandType::overlay_clear},
                            {R"({"type":"schedule.cancel","req":"7","id":"sch-3"})", CommandType::schedule_cancel}}) {
    auto out = parse_command(text);
    ASSERT_TRUE(out.ok()) << text << ": " << out.error().message;
    EXPECT_EQ(out.command().type, type);
  }
  EXPECT_EQ(*parse_command(R"({"type":"sale.update","req":"4","id":"s1","stock":123})").command().stock, 123);
}

TEST(ControlCommand, UnknownFieldsAreIgnored) {
  EXPECT_TRUE(parse_command(with(kCard, "card.sparkle", true)).ok());
  EXPECT_TRUE(parse_command(with(kCard, "extra", json::array({1, 2}))).ok());
}

TEST(ControlCommand, BadJsonAndTypes) {
  EXPECT_EQ(error_of("{not json").code, ErrorCode::bad_json);
  EXPECT_EQ(error_of("[1,2]").code, ErrorCode::bad_json);
  EXPECT_EQ(error_of("\"x\"").code, ErrorCode::bad_json);
  EXPECT_EQ(error_of(std::string("{\"type\":\"card.hide\",\"req\":\"\xff\"}")).code, ErrorCode::bad_json);
  EXPECT_EQ(error_of(R"({"type":"card.hide","req":"\ud800","id":"x"})").code, ErrorCode::bad_json);
  auto deep = std::string(100, '[') + std::string(100, ']');
  auto e = error_of(R"({"type":"overlay.clear","req":"1","x":)" + deep + "}");
  EXPECT_EQ(e.code, ErrorCode::bad_json);
  EXPECT_NE(e.message.find("nested deeper"), std::string::npos);
  EXPECT_EQ(error_of(R"({"type":"card.flip","req":"1"})").code, ErrorCode::unknown_type);
  EXPECT_EQ(error_of(R"({"req":"1"})").message, "type: missing");
  EXPECT_EQ(error_of(R"({"type":1,"req":"1"})").message, "type: must be a string");
  EXPECT_EQ(error_of(R"({"type":"overlay.clear"})").message, "req: missing");
  EXPECT_EQ(error_of(R"({"type":"overlay.clear","req":5})").code, ErrorCode::invalid);
  auto out = parse_command(R"({"type":"card.flip","req":"r9"})");
  EXPECT_EQ(out.req, "r9");  // errors echo the req when it could be read
}

TEST(ControlCommand, CardFieldErrorsNameThePath) {
  struct Case {
    std::string path;
    json value;
    std::string message;
  };
  std::vector<Case> cases = {
      {"card.price", kRemove, "card.price: missing"},
      {"card.title", kRemove, "card.title: missing"},
      {"card.id", kRemove, "card.id: missing"},
      {"card.id", "has space", "card.id: must match [A-Za-z0-9_.:-]{1,64}"},
      {"card.id", std::string(65, 'a'), "card.id: must match [A-Za-z0-9_.:-]{1,64}"},
      {"card.title", 5, "card.title: must be a string"},
      {"card.title", "", "card.title: must not be empty"},
      {"card.title", std::string(201, 'x'), "card.title: longer than 200 characters"},
      {"card.price", std::string(33, '9'), "card.price: longer than 32 characters"},
      {"card.original_price", std::string(33, '9'), "card.original_price: longer than 32 characters"},
      {"card.badge", std::string(17, 'b'), "card.badge: longer than 16 characters"},
      {"card.position", "middle", "card.position: must be top-left, top-right, bottom-left or bottom-right"},
      {"card.locale", "fr", "card.locale: must be \"zh\" or \"en\""},
      {"card.url", "javascript:alert(1)", "card.url: must start with https:// or http://"},
      {"card.url", "https://x/" + std::string(2100, 'a'), "card.url: longer than 2048 characters"},
      {"card.duration_ms", -1, "card.duration_ms: must be an integer between 0 and 604800000 (out of range)"},
      {"card.duration_ms", 1.5, "card.duration_ms: must be an integer between 0 and 604800000 (got a fraction or an out-of-range number)"},
      {"card.duration_ms", "10", "card.duration_ms: must be an integer between 0 and 604800000"},
      {"card.title", "line\nbreak", "card.title: must not contain control characters"},
      {"card.image", 7, "card.image: must be a data: URI or an asset id"},
      {"card.image", "http://example.com/a.png", "card.image: must be a data: URI (PNG, JPEG or WebP) or an asset id \"img-…\""},
  };
  for (const auto& c : cases) {
    auto e = error_of(with(kCard, c.path, c.value));
    EXPECT_EQ(e.code, ErrorCode::invalid) << c.path;
    EXPECT_EQ(e.message, c.message) << c.path;
  }
  EXPECT_EQ(error_of(R"({"type":"card.show","req":"1"})").message, "card: missing");
  EXPECT_EQ(error_of(R"({"type":"card.show","req":"1","card":[]})").message, "card: must be an object");
  // 200 Chinese characters are 600 bytes but within the cap: the cap counts characters.
  std::string zh;
  for (int i = 0; i < 200; ++i) zh += "丝";
  EXPECT_TRUE(parse_command(with(kCard, "card.title", zh)).ok());
}

TEST(ControlCommand, SaleFieldErrorsNameThePath) {
  EXPECT_EQ(error_of(with(kSale, "sale.stock", -1)).message, "sale.stock: must be an integer >= 0 (out of range)");
  EXPECT_EQ(error_of(with(kSale, "sale.stock", "5")).message, "sale.stock: must be an integer >= 0");
  EXPECT_EQ(error_of(with(kSale, "sale.stock", kRemove)).message, "sale.stock: missing");
  EXPECT_EQ(error_of(with(kSale, "sale.stock", 1e30)).message,
            "sale.stock: must be an integer >= 0 (got a fraction or an out-of-range number)");
  EXPECT_EQ(error_of(R"({"type":"sale.start","req":"3","sale":{"id":"s1","title":"t","price":"1","stock":18446744073709551615,"duration_ms":5}})").message,
            "sale.stock: must be an integer >= 0 (out of range)");
  EXPECT_EQ(error_of(with(kSale, "sale.duration_ms", kRemove)).message, "sale.duration_ms: missing (or give ends_at_ms)");
  EXPECT_EQ(error_of(with(kSale, "sale.duration_ms", 0)).message, "sale.duration_ms: must be > 0 for a sale");
  EXPECT_EQ(error_of(with(kSale, "sale.ends_at_ms", 1700000000000LL)).message,
            "sale: give duration_ms or ends_at_ms, not both");
  auto ends = parse_command(with(with(kSale, "sale.duration_ms", kRemove).c_str(), "sale.ends_at_ms", 1700000000000LL));
  ASSERT_TRUE(ends.ok());
  EXPECT_EQ(*ends.command().overlay.ends_at_ms, 1700000000000LL);
  EXPECT_EQ(error_of(with(kSale, "sale.price", kRemove)).message, "sale.price: missing");
  EXPECT_EQ(parse_command(kSale).command().overlay.position, Position::top_right);
}

TEST(ControlCommand, UpdateHideEndCancelNeedAnId) {
  EXPECT_EQ(error_of(R"({"type":"card.hide","req":"1"})").message, "id: missing");
  EXPECT_EQ(error_of(R"({"type":"sale.end","req":"1","id":5})").message, "id: must be a string");
  EXPECT_EQ(error_of(R"({"type":"schedule.cancel","req":"1"})").message, "id: missing");
  EXPECT_EQ(error_of(R"({"type":"sale.update","req":"1","id":"s1"})").message,
            "stock: missing (sale.update needs stock, price or ends_at_ms)");
  EXPECT_EQ(error_of(R"({"type":"sale.update","req":"1","id":"s1","stock":-3})").message,
            "stock: must be an integer >= 0 (out of range)");
  EXPECT_TRUE(parse_command(R"({"type":"sale.update","req":"1","id":"s1","price":"¥8"})").ok());
}

TEST(ControlCommand, AtMsSchedules) {
  auto out = parse_command(R"({"type":"overlay.clear","req":"1","at_ms":1900000000000})");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out.command().at_ms, 1900000000000LL);
  EXPECT_EQ(error_of(R"({"type":"overlay.clear","req":"1","at_ms":-5})").message,
            "at_ms: must be an integer between 1 and 4102444800000 (out of range)");
  EXPECT_EQ(error_of(R"({"type":"overlay.clear","req":"1","at_ms":"soon"})").code, ErrorCode::invalid);
}

TEST(ControlCommand, DataUriImagesAreDecodedAndChecked) {
  for (auto [mime, bytes] : {std::pair<std::string, std::string>{"image/png", test::png_bytes(640, 480)},
                             {"image/jpeg", test::jpeg_bytes(320, 240)},
                             {"image/webp", test::webp_vp8x_bytes(100, 50)}}) {
    auto out = parse_command(with(kCard, "card.image", test::data_uri(mime, bytes)));
    ASSERT_TRUE(out.ok()) << mime << ": " << out.error().message;
    ASSERT_TRUE(out.command().image);
    EXPECT_EQ(out.command().image->info.mime, mime);
    EXPECT_EQ(out.command().overlay.image, asset_id_for(bytes));
  }
  EXPECT_EQ(error_of(with(kCard, "card.image", test::data_uri("image/png", "GIF89a-not-png"))).message,
            "card.image: not a PNG, JPEG or WebP image");
  EXPECT_EQ(error_of(with(kCard, "card.image", test::data_uri("image/png", test::png_bytes(5000, 10)))).message,
            "card.image: 5000x10 is larger than 4096x4096");
  EXPECT_EQ(error_of(with(kCard, "card.image", "data:image/png;base64,@@@@")).message,
            "card.image: invalid base64 in data: URI");
  EXPECT_EQ(error_of(with(kCard, "card.image", "data:image/png,rawbytes")).message,
            "card.image: data: URI must be base64");
  std::string big = test::png_bytes(10, 10) + std::string((1 << 20), '\0');
  EXPECT_EQ(error_of(with(kCard, "card.image", test::data_uri("image/png", big))).message,
            "card.image: image larger than 1 MiB");
  EXPECT_TRUE(parse_command(with(kCard, "card.image", "img-0123456789abcdef")).ok());
  // Found by fuzz_control_command: short strings must not read past their end.
  for (const char* s : {"", "i", "img", "img-", "img-XYZ"})
    EXPECT_EQ(error_of(with(kCard, "card.image", s)).code, ErrorCode::invalid) << s;
}

TEST(ControlCommand, RoundTripsThroughJson) {
  auto a = parse_command(with(with(kSale, "sale.badge", "热卖").c_str(), "at_ms", 1900000000000LL));
  ASSERT_TRUE(a.ok());
  auto b = parse_command(command_to_json(a.command()));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(command_to_json(a.command()), command_to_json(b.command()));
  EXPECT_EQ(b.command().overlay.badge, "热卖");
}

TEST(ImageProbe, Dimensions) {
  EXPECT_EQ(probe_image(test::png_bytes(4096, 4096))->width, 4096);
  EXPECT_EQ(probe_image(test::jpeg_bytes(320, 240))->height, 240);
  EXPECT_EQ(probe_image(test::webp_vp8x_bytes(4096, 1))->width, 4096);
  EXPECT_FALSE(probe_image(test::webp_vp8x_bytes(4097, 1)).ok());
  EXPECT_FALSE(probe_image(test::png_bytes(0, 10)).ok());
  EXPECT_FALSE(probe_image(std::string("\xFF\xD8\xFF\xE0\x00\x01", 6)).ok());  // broken length
  EXPECT_FALSE(probe_image("").ok());
}

TEST(Utf8, ValidatesPerRfc3629) {
  EXPECT_TRUE(is_valid_utf8("abc 真丝 ✓ 😀"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE4\xB8"));          // truncated
  EXPECT_EQ(utf8_length("真丝a"), 3u);
}

}  // namespace
}  // namespace anchorcast::control
