#include "aggregator/serve/proto_files.h"

#include <fstream>

#include "gtest/gtest.h"
#include "proto/params.pb.h"

namespace pinning::aggregator {
namespace {

TEST(ProtoFilesTest, ParsesTextAndJson) {
  v1::RandomizationParams params;
  ASSERT_TRUE(ParseProtoText("f: 0.5 p: 0.25 q: 0.75 pinsets_per_ping: 3", false, &params).ok());
  EXPECT_EQ(params.f(), 0.5);
  EXPECT_EQ(params.p(), 0.25);
  EXPECT_EQ(params.pinsets_per_ping(), 3u);
  ASSERT_TRUE(ParseProtoText(R"({"f": 0.25, "q": 0.5, "bitsPerPinset": 2})", true, &params).ok());
  EXPECT_EQ(params.f(), 0.25);
  EXPECT_EQ(params.p(), 0.0);  // cleared before parsing
  EXPECT_EQ(params.bits_per_pinset(), 2u);
}

TEST(ProtoFilesTest, ErrorsNameTheProblem) {
  v1::RandomizationParams params;
  absl::Status s = ParseProtoText("f: 0.5\nbogus: 1", false, &params);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("bogus"), absl::string_view::npos) << s;
  s = ParseProtoText(R"({"f": "x"})", true, &params);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadProtoFile("/nonexistent.json", &params).code(), absl::StatusCode::kNotFound);
}

TEST(ProtoFilesTest, ReadsFileByExtensionAndPrintsJson) {
  const std::string path = ::testing::TempDir() + "/params.json";
  std::ofstream(path) << R"({"f": 0.5, "p": 0.25, "q": 0.75})";
  v1::RandomizationParams params;
  ASSERT_TRUE(ReadProtoFile(path, &params).ok());
  EXPECT_EQ(params.q(), 0.75);
  const std::string json = ProtoToPrettyJson(params);
  EXPECT_NE(json.find("\"q\": 0.75"), std::string::npos) << json;
  EXPECT_NE(json.find("\"pinsets_per_ping\": 0"), std::string::npos) << json;
}

}  // namespace
}  // namespace pinning::aggregator
