#include "privacy/json_writer.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "gtest/gtest.h"

namespace privacy {
namespace {

TEST(JsonWriterTest, WritesNestedStructures) {
  JsonWriter json;
  json.BeginObject()
      .Key("a")
      .Number(0.1)
      .Key("list")
      .BeginArray()
      .Integer(1)
      .Bool(false)
      .BeginObject()
      .EndObject()
      .EndArray()
      .Key("s")
      .String("x\"y\\\n")
      .EndObject();
  EXPECT_EQ(json.str(),
            "{\n"
            "  \"a\": 0.1,\n"
            "  \"list\": [\n"
            "    1,\n"
            "    false,\n"
            "    {}\n"
            "  ],\n"
            "  \"s\": \"x\\\"y\\\\\\n\"\n"
            "}");
}

TEST(JsonWriterTest, SpecialNumbers) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  JsonWriter json;
  json.BeginArray().Number(kInf).Number(-kInf).Number(std::nan("")).Number(1e300).EndArray();
  EXPECT_EQ(json.str(), "[\n  \"inf\",\n  \"-inf\",\n  null,\n  1e+300\n]");
}

TEST(JsonWriterTest, NumbersRoundTrip) {
  for (double v : {0.1, 1.0 / 3, 4 * std::log(3.0), 1e-320, -2.5, 0.0}) {
    EXPECT_EQ(std::strtod(JsonWriter::FormatNumber(v).c_str(), nullptr), v) << v;
  }
  EXPECT_EQ(JsonWriter::FormatNumber(0.25), "0.25");
  EXPECT_EQ(JsonWriter::FormatNumber(3), "3");
}

TEST(JsonWriterTest, EscapesControlCharacters) {
  JsonWriter json;
  json.String(std::string("\x01", 1));
  EXPECT_EQ(json.str(), "\"\\u0001\"");
}

}  // namespace
}  // namespace privacy
