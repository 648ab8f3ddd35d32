#include "client/json_comments.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::testing::HasSubstr;

std::string Strip(absl::string_view text) {
  absl::StatusOr<std::string> out = StripJsonComments(text);
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return "<error>";
  EXPECT_EQ(out->size(), text.size()) << "length must be preserved";
  return *out;
}

TEST(StripJsonCommentsTest, LineCommentsBecomeSpaces) {
  EXPECT_EQ(Strip("// head\n{}\n"), "       \n{}\n");
  EXPECT_EQ(Strip("{} // tail"), "{}        ");
  EXPECT_EQ(Strip("[1, // one\n 2]"), "[1,       \n 2]");
}

TEST(StripJsonCommentsTest, SlashesInsideStringsAreKept) {
  const std::string text = R"({"url": "http://a.test/x//y"} // c)";
  EXPECT_EQ(Strip(text), R"({"url": "http://a.test/x//y"}     )");
}

TEST(StripJsonCommentsTest, EscapedQuoteDoesNotEndTheString) {
  const std::string text = R"({"a": "b\"//c"} // d)";
  EXPECT_EQ(Strip(text), R"({"a": "b\"//c"}     )");
}

TEST(StripJsonCommentsTest, EscapedBackslashBeforeClosingQuote) {
  // "b\\" ends after the escaped backslash, so the // that follows is a comment.
  const std::string text = R"({"a": "b\\"} // "x")";
  EXPECT_EQ(Strip(text), R"({"a": "b\\"}       )");
}

TEST(StripJsonCommentsTest, QuotesInsideCommentsDoNotOpenStrings) {
  const std::string text = "// it's \"quoted\n{\"k\": 1} // done\n";
  EXPECT_EQ(Strip(text), "               \n{\"k\": 1}        \n");
}

TEST(StripJsonCommentsTest, BlockCommentsKeepNewlines) {
  EXPECT_EQ(Strip("{/* a */}"), "{       }");
  EXPECT_EQ(Strip("[1,/* x\ny\n*/2]"), "[1,    \n \n  2]");
  EXPECT_EQ(Strip("/* // not a line comment */1"), "                           1");
}

TEST(StripJsonCommentsTest, LoneSlashIsLeftForTheParser) {
  EXPECT_EQ(Strip("{\"a\": 1 / 2}"), "{\"a\": 1 / 2}");
  EXPECT_EQ(Strip("/"), "/");
}

TEST(StripJsonCommentsTest, CommentMarkersInsideCommentsAreInert) {
  EXPECT_EQ(Strip("// a /* b\n1"), "         \n1");
}

TEST(StripJsonCommentsTest, UnterminatedBlockCommentIsAnError) {
  absl::StatusOr<std::string> out = StripJsonComments("{\n\n /* never closed\n}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("line 3"));
}

TEST(StripJsonCommentsTest, UnterminatedStringDoesNotSwallowLaterComments) {
  // The stray quote is the parser's problem; the comment on the next line is still removed.
  EXPECT_EQ(Strip("\"abc\n// c\n"), "\"abc\n    \n");
}

}  // namespace
}  // namespace pinning::client
