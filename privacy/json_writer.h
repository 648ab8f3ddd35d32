// json_writer.h: a tiny streaming JSON writer for privacyctl's --json output, and JsonQuote for
// code that assembles JSON itself (the registry's audit values, pinsim's report).
//
// Numbers are written in the shortest form that reads back to the same double; +infinity and
// −infinity as the strings "inf" and "-inf" (JSON has no infinity, and epsilons are often
// infinite); NaN as null. Output is indented by two spaces per level.
//
// Usage:
//   JsonWriter json;
//   json.BeginObject().Key("epsilon_one").Number(1.07).Key("epsilon_inf").Number(INFINITY);
//   json.EndObject();
//   std::cout << json.str() << "\n";  // {"epsilon_one": 1.07, "epsilon_inf": "inf"} (indented)
//
// The writer does not check nesting; callers balance Begin/End and give a Key before each value in
// an object.
#ifndef PRIVACY_JSON_WRITER_H_
#define PRIVACY_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace privacy {

// JsonQuote returns `s` as a JSON string literal (RFC 8259 §7): quotes, with `"` and `\`
// escaped, \n \r \t by name and other control characters as \u00XX.
std::string JsonQuote(absl::string_view s);

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(absl::string_view key);
  JsonWriter& Number(double value);
  JsonWriter& Integer(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& String(absl::string_view value);

  const std::string& str() const { return out_; }

  // FormatNumber returns the shortest round-trip decimal form of a finite double.
  static std::string FormatNumber(double value);

 private:
  void BeforeValue();
  void Newline();

  std::string out_;
  // One entry per open container: the number of items written so far.
  std::vector<int> counts_;
  bool after_key_ = false;
};

}  // namespace privacy

#endif  // PRIVACY_JSON_WRITER_H_
