// json_comments.h: removes `//` and `/* */` comments from JSON-with-comments text.
//
// The pin lists of Chromium (transport_security_state_static_pins.json) and Firefox
// (PreloadedHPKPins.json) are JSON plus C-style comments. Comments are recognised only outside
// string literals, so a URL such as "http://example.com/x" inside a string is kept intact.
// Every comment character is replaced by a space (newlines are kept), so line and column numbers
// reported by the JSON parser afterwards still point into the original file.
//
//   ASSIGN_OR_RETURN(std::string json, pinning::client::StripJsonComments(text));
//   ASSIGN_OR_RETURN(JsonValue root, pinning::client::ParseJson(json));
#ifndef CLIENT_JSON_COMMENTS_H_
#define CLIENT_JSON_COMMENTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pinning::client {

// StripJsonComments returns `text` with every comment outside string literals blanked out:
// `// ...` up to (not including) the end of the line, and `/* ... */` (newlines inside are kept).
// String literals, including escaped quotes (`"a\"//b"`), are copied unchanged. The output has
// the same length and the same line structure as the input.
//
// Errors: INVALID_ARGUMENT for a `/*` comment that is not closed (with its line number). An
// unterminated string literal is copied as is and left for the JSON parser to report.
absl::StatusOr<std::string> StripJsonComments(absl::string_view text);

}  // namespace pinning::client

#endif  // CLIENT_JSON_COMMENTS_H_
