#include "client/json_comments.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pinning::client {

absl::StatusOr<std::string> StripJsonComments(absl::string_view text) {
  std::string out(text);
  enum class State { kCode, kString, kLineComment, kBlockComment };
  State state = State::kCode;
  int line = 1;
  int block_start_line = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    switch (state) {
      case State::kCode:
        if (c == '"') {
          state = State::kString;
        } else if (c == '/' && i + 1 < out.size() && out[i + 1] == '/') {
          state = State::kLineComment;
          out[i] = ' ';
          out[++i] = ' ';
        } else if (c == '/' && i + 1 < out.size() && out[i + 1] == '*') {
          state = State::kBlockComment;
          block_start_line = line;
          out[i] = ' ';
          out[++i] = ' ';
        }
        break;
      case State::kString:
        if (c == '\\' && i + 1 < out.size()) {
          // Skip the escaped character, which may be a quote. A newline cannot be escaped in
          // JSON; the parser reports it.
          if (out[i + 1] == '\n') ++line;
          ++i;
        } else if (c == '"' || c == '\n') {
          // A newline ends an (invalid) unterminated string so that one stray quote does not
          // swallow the rest of the file's comments; the parser reports the error.
          state = State::kCode;
        }
        break;
      case State::kLineComment:
        if (c == '\n') {
          state = State::kCode;
        } else {
          out[i] = ' ';
        }
        break;
      case State::kBlockComment:
        if (c == '*' && i + 1 < out.size() && out[i + 1] == '/') {
          out[i] = ' ';
          out[++i] = ' ';
          state = State::kCode;
        } else if (c != '\n') {
          out[i] = ' ';
        }
        break;
    }
    if (c == '\n') ++line;
  }
  if (state == State::kBlockComment) {
    return absl::InvalidArgumentError(
        absl::StrCat("unterminated /* comment starting on line ", block_start_line));
  }
  return out;
}

}  // namespace pinning::client
