#include "client/json.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::testing::HasSubstr;

JsonValue MustParse(absl::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status() << " for " << text;
  return v.ok() ? *std::move(v) : JsonValue();
}

std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  EXPECT_FALSE(v.ok()) << "accepted: " << text;
  if (v.ok()) return "";
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(v.status().message());
}

TEST(ParseJsonTest, Scalars) {
  EXPECT_TRUE(MustParse("null").is_null());
  EXPECT_TRUE(MustParse(" true ").bool_value());
  EXPECT_FALSE(MustParse("false").bool_value());
  EXPECT_TRUE(MustParse("false").is_bool());
  EXPECT_EQ(MustParse("0").number_value(), 0);
  EXPECT_EQ(MustParse("-12").number_value(), -12);
  EXPECT_EQ(MustParse("1.5e3").number_value(), 1500);
  EXPECT_EQ(MustParse("2E-2").number_value(), 0.02);
  EXPECT_EQ(MustParse("\"hi\"").string_value(), "hi");
}

TEST(ParseJsonTest, StringEscapes) {
  EXPECT_EQ(MustParse(R"("a\"b\\c\/d\b\f\n\r\t")").string_value(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(MustParse(R"("\u0041\u00e9\u20ac")").string_value(), "A\xC3\xA9\xE2\x82\xAC");
  // U+1F600 as a surrogate pair.
  EXPECT_EQ(MustParse(R"("\ud83d\ude00")").string_value(), "\xF0\x9F\x98\x80");
  // Raw UTF-8 passes through.
  EXPECT_EQ(MustParse("\"F\xC5\x91\"").string_value(), "F\xC5\x91");
}

TEST(ParseJsonTest, NestedStructuresKeepOrderAndLines) {
  const JsonValue v = MustParse("{\n \"b\": [1, {\"c\": null}],\n \"a\": \"x\"\n}");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.object_members().size(), 2u);
  EXPECT_EQ(v.object_members()[0].first, "b");
  EXPECT_EQ(v.object_members()[1].first, "a");
  const JsonValue* b = v.Find("b");
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->is_array());
  ASSERT_EQ(b->array_items().size(), 2u);
  EXPECT_EQ(b->array_items()[0].number_value(), 1);
  EXPECT_TRUE(b->array_items()[1].Find("c")->is_null());
  EXPECT_EQ(v.line(), 1);
  EXPECT_EQ(b->line(), 2);
  EXPECT_EQ(v.Find("a")->line(), 3);
  EXPECT_EQ(v.Find("missing"), nullptr);
  EXPECT_EQ(b->Find("x"), nullptr) << "Find on an array";
  EXPECT_TRUE(MustParse("[]").array_items().empty());
  EXPECT_TRUE(MustParse("{}").object_members().empty());
}

TEST(ParseJsonTest, RejectsTrailingCommas) {
  EXPECT_THAT(ErrorOf("[1,]"), HasSubstr("expected a value"));
  EXPECT_THAT(ErrorOf("{\"a\": 1,}"), HasSubstr("expected a string key"));
}

TEST(ParseJsonTest, RejectsDuplicateKeys) {
  EXPECT_THAT(ErrorOf(R"({"a": 1, "a": 2})"), HasSubstr("duplicate key \"a\""));
}

TEST(ParseJsonTest, RejectsBadNumbers) {
  EXPECT_THAT(ErrorOf("01"), HasSubstr("leading zero"));
  EXPECT_THAT(ErrorOf("1."), HasSubstr("after '.'"));
  EXPECT_THAT(ErrorOf("-"), HasSubstr("expected a digit"));
  EXPECT_THAT(ErrorOf("1e"), HasSubstr("exponent"));
  EXPECT_THAT(ErrorOf("+1"), HasSubstr("unexpected character"));
  EXPECT_THAT(ErrorOf("1e999"), HasSubstr("out of range"));
}

TEST(ParseJsonTest, RejectsBadStrings) {
  EXPECT_THAT(ErrorOf("\"abc"), HasSubstr("unterminated string"));
  EXPECT_THAT(ErrorOf("\"a\nb\""), HasSubstr("control character"));
  EXPECT_THAT(ErrorOf(R"("\x")"), HasSubstr("invalid escape"));
  EXPECT_THAT(ErrorOf(R"("\u12")"), HasSubstr("\\u escape"));
  EXPECT_THAT(ErrorOf(R"("\ud83d")"), HasSubstr("surrogate"));
  EXPECT_THAT(ErrorOf(R"("\ude00")"), HasSubstr("surrogate"));
  EXPECT_THAT(ErrorOf("\"\xC0\xAF\""), HasSubstr("UTF-8")) << "overlong encoding";
  EXPECT_THAT(ErrorOf("\"\xFF\""), HasSubstr("UTF-8"));
  EXPECT_THAT(ErrorOf("\"\xE2\x82\""), HasSubstr("UTF-8"));
}

TEST(ParseJsonTest, RejectsOtherSyntaxErrors) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("end of input"));
  EXPECT_THAT(ErrorOf("tru"), HasSubstr("expected 'true'"));
  EXPECT_THAT(ErrorOf("{} {}"), HasSubstr("after the JSON value"));
  EXPECT_THAT(ErrorOf("{\"a\" 1}"), HasSubstr("expected ':'"));
  EXPECT_THAT(ErrorOf("[1 2]"), HasSubstr("expected ',' or ']'"));
  EXPECT_THAT(ErrorOf("{\"a\": 1 \"b\": 2}"), HasSubstr("expected ',' or '}'"));
  EXPECT_THAT(ErrorOf("// comment\n{}"), HasSubstr("unexpected character '/'"));
}

TEST(ParseJsonTest, ErrorsNameLineAndColumn) {
  EXPECT_THAT(ErrorOf("{\n  \"a\": 1,\n  \"b\": tx\n}"), HasSubstr("line 3, column 8"));
}

TEST(ParseJsonTest, LimitsNestingDepth) {
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(ok).ok());
  const std::string deep =
      std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nesting too deep"));
  EXPECT_THAT(ErrorOf(std::string(100000, '[')), HasSubstr("nesting too deep"));
}

}  // namespace
}  // namespace pinning::client
