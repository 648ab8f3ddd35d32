// json.h: a small, strict JSON (RFC 8259) parser for the pin lists and the organization map.
//
// No JSON library for C++ is available to the offline build, and protobuf's JSON support only
// parses into messages, so this recursive-descent parser reads the handful of JSON files the
// client needs. It is strict: no trailing commas, no comments (strip them first with
// StripJsonComments), no duplicate object keys, no bare control characters in strings, valid
// UTF-8 only, and nesting at most kMaxJsonDepth deep. Every value remembers the line it starts
// on, so schema errors can point into the file.
//
//   ASSIGN_OR_RETURN(JsonValue root, ParseJson(R"({"pinsets": [{"name": "tor"}]})"));
//   const JsonValue* pinsets = root.Find("pinsets");
//   if (pinsets != nullptr && pinsets->is_array()) {
//     for (const JsonValue& p : pinsets->array_items()) { ... p.Find("name")->string_value() ... }
//   }
#ifndef CLIENT_JSON_H_
#define CLIENT_JSON_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pinning::client {

// The deepest nesting of arrays and objects ParseJson accepts (guards the recursion).
inline constexpr int kMaxJsonDepth = 64;

// JsonValue is one parsed JSON value. Accessors for the wrong type return an empty/zero value;
// check the type first (is_string() etc.). Objects keep their members in file order.
class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<JsonValue>;
  using Object = std::vector<std::pair<std::string, JsonValue>>;

  JsonValue() = default;
  static JsonValue Null(int line = 0);
  static JsonValue Bool(bool value, int line = 0);
  static JsonValue Number(double value, int line = 0);
  static JsonValue String(std::string value, int line = 0);
  static JsonValue MakeArray(Array items, int line = 0);
  static JsonValue MakeObject(Object members, int line = 0);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool bool_value() const { return bool_; }
  double number_value() const { return number_; }
  const std::string& string_value() const { return string_; }
  const Array& array_items() const { return array_; }
  const Object& object_members() const { return object_; }

  // Find returns the member of an object named `key`, or nullptr when this is not an object or
  // has no such member.
  const JsonValue* Find(absl::string_view key) const;

  // line is the 1-based line on which the value starts in the parsed text (0 if built by hand).
  int line() const { return line_; }

  // TypeName returns "null", "boolean", "number", "string", "array" or "object", for messages.
  static absl::string_view TypeName(Type type);

 private:
  Type type_ = Type::kNull;
  int line_ = 0;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  Array array_;
  Object object_;
};

// ParseJson parses one JSON document (surrounding whitespace allowed, nothing else after it).
// Errors: INVALID_ARGUMENT naming the line and column and what was expected.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

}  // namespace pinning::client

#endif  // CLIENT_JSON_H_
