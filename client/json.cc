#include "client/json.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::client {

JsonValue JsonValue::Null(int line) {
  JsonValue v;
  v.line_ = line;
  return v;
}

JsonValue JsonValue::Bool(bool value, int line) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = value;
  v.line_ = line;
  return v;
}

JsonValue JsonValue::Number(double value, int line) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.number_ = value;
  v.line_ = line;
  return v;
}

JsonValue JsonValue::String(std::string value, int line) {
  JsonValue v;
  v.type_ = Type::kString;
  v.string_ = std::move(value);
  v.line_ = line;
  return v;
}

JsonValue JsonValue::MakeArray(Array items, int line) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.array_ = std::move(items);
  v.line_ = line;
  return v;
}

JsonValue JsonValue::MakeObject(Object members, int line) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.object_ = std::move(members);
  v.line_ = line;
  return v;
}

const JsonValue* JsonValue::Find(absl::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& [name, value] : object_) {
    if (name == key) return &value;
  }
  return nullptr;
}

absl::string_view JsonValue::TypeName(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "boolean";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kObject:
      return "object";
  }
  return "unknown";
}

namespace {

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    SkipWhitespace();
    ASSIGN_OR_RETURN(JsonValue value, ParseValue(0));
    SkipWhitespace();
    if (pos_ != text_.size()) return Error("unexpected content after the JSON value");
    return value;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("JSON error at line ", line_, ", column ",
                                                   pos_ - line_start_ + 1, ": ", what));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  void SkipWhitespace() {
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }

  absl::StatusOr<JsonValue> ParseValue(int depth) {
    if (AtEnd()) return Error("unexpected end of input, expected a value");
    const int line = line_;
    switch (Peek()) {
      case '{':
        return ParseObject(depth);
      case '[':
        return ParseArray(depth);
      case '"': {
        ASSIGN_OR_RETURN(std::string s, ParseString());
        return JsonValue::String(std::move(s), line);
      }
      case 't':
        RETURN_IF_ERROR(ExpectLiteral("true"));
        return JsonValue::Bool(true, line);
      case 'f':
        RETURN_IF_ERROR(ExpectLiteral("false"));
        return JsonValue::Bool(false, line);
      case 'n':
        RETURN_IF_ERROR(ExpectLiteral("null"));
        return JsonValue::Null(line);
      default:
        if (Peek() == '-' || (Peek() >= '0' && Peek() <= '9')) return ParseNumber();
        return Error(
            absl::StrCat("unexpected character '", std::string(1, Peek()), "', expected a value"));
    }
  }

  absl::Status ExpectLiteral(absl::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) {
      return Error(absl::StrCat("invalid literal, expected '", literal, "'"));
    }
    pos_ += literal.size();
    return absl::OkStatus();
  }

  absl::StatusOr<JsonValue> ParseObject(int depth) {
    if (depth >= kMaxJsonDepth) return Error("nesting too deep");
    const int line = line_;
    ++pos_;  // '{'
    JsonValue::Object members;
    SkipWhitespace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return JsonValue::MakeObject(std::move(members), line);
    }
    while (true) {
      SkipWhitespace();
      if (AtEnd() || Peek() != '"') return Error("expected a string key");
      ASSIGN_OR_RETURN(std::string key, ParseString());
      for (const auto& member : members) {
        if (member.first == key) return Error(absl::StrCat("duplicate key \"", key, "\""));
      }
      SkipWhitespace();
      if (AtEnd() || Peek() != ':') return Error("expected ':' after an object key");
      ++pos_;
      SkipWhitespace();
      ASSIGN_OR_RETURN(JsonValue value, ParseValue(depth + 1));
      members.emplace_back(std::move(key), std::move(value));
      SkipWhitespace();
      if (AtEnd()) return Error("unexpected end of input inside an object");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        return JsonValue::MakeObject(std::move(members), line);
      }
      return Error("expected ',' or '}' in an object");
    }
  }

  absl::StatusOr<JsonValue> ParseArray(int depth) {
    if (depth >= kMaxJsonDepth) return Error("nesting too deep");
    const int line = line_;
    ++pos_;  // '['
    JsonValue::Array items;
    SkipWhitespace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return JsonValue::MakeArray(std::move(items), line);
    }
    while (true) {
      SkipWhitespace();
      ASSIGN_OR_RETURN(JsonValue value, ParseValue(depth + 1));
      items.push_back(std::move(value));
      SkipWhitespace();
      if (AtEnd()) return Error("unexpected end of input inside an array");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        return JsonValue::MakeArray(std::move(items), line);
      }
      return Error("expected ',' or ']' in an array");
    }
  }

  // Number grammar of RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  absl::StatusOr<JsonValue> ParseNumber() {
    const int line = line_;
    const size_t start = pos_;
    auto is_digit = [this] { return !AtEnd() && Peek() >= '0' && Peek() <= '9'; };
    if (Peek() == '-') ++pos_;
    if (!is_digit()) return Error("invalid number: expected a digit");
    if (Peek() == '0') {
      ++pos_;
      if (is_digit()) return Error("invalid number: leading zero");
    } else {
      while (is_digit()) ++pos_;
    }
    if (!AtEnd() && Peek() == '.') {
      ++pos_;
      if (!is_digit()) return Error("invalid number: expected a digit after '.'");
      while (is_digit()) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (!is_digit()) return Error("invalid number: expected a digit in the exponent");
      while (is_digit()) ++pos_;
    }
    const std::string literal(text_.substr(start, pos_ - start));
    const double value = std::strtod(literal.c_str(), nullptr);
    if (!std::isfinite(value)) return Error("number out of range");
    return JsonValue::Number(value, line);
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  absl::StatusOr<uint32_t> ParseHex4() {
    if (pos_ + 4 > text_.size()) return Error("truncated \\u escape");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        value |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        value |= c - 'A' + 10;
      } else {
        return Error("invalid hex digit in \\u escape");
      }
    }
    return value;
  }

  // Validates one UTF-8 sequence starting at pos_ (RFC 3629: no overlongs, no surrogates,
  // at most U+10FFFF) and appends it to `out`.
  absl::Status CopyUtf8Sequence(std::string* out) {
    const auto lead = static_cast<unsigned char>(Peek());
    int length;
    uint32_t cp;
    if (lead < 0x80) {
      length = 1;
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      cp = lead & 0x07;
    } else {
      return Error("invalid UTF-8 in string");
    }
    if (pos_ + length > text_.size()) return Error("truncated UTF-8 sequence in string");
    for (int i = 1; i < length; ++i) {
      const auto c = static_cast<unsigned char>(text_[pos_ + i]);
      if ((c & 0xC0) != 0x80) return Error("invalid UTF-8 in string");
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Error("invalid UTF-8 in string");
    }
    out->append(text_.data() + pos_, length);
    pos_ += length;
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ParseString() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (AtEnd()) return Error("unterminated string");
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error("control character in string (unterminated string?)");
      }
      if (c != '\\') {
        RETURN_IF_ERROR(CopyUtf8Sequence(&out));
        continue;
      }
      ++pos_;
      if (AtEnd()) return Error("unterminated escape in string");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          ASSIGN_OR_RETURN(uint32_t cp, ParseHex4());
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") return Error("unpaired UTF-16 surrogate");
            pos_ += 2;
            ASSIGN_OR_RETURN(uint32_t low, ParseHex4());
            if (low < 0xDC00 || low > 0xDFFF) return Error("unpaired UTF-16 surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Error("unpaired UTF-16 surrogate");
          }
          AppendUtf8(cp, &out);
          break;
        }
        default:
          return Error(absl::StrCat("invalid escape '\\", std::string(1, e), "' in string"));
      }
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) { return Parser(text).ParseDocument(); }

}  // namespace pinning::client
