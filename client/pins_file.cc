#include "client/pins_file.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/spki.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::client {
namespace {

bool IsValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<PinsFile> ParsePinsFile(absl::string_view text, absl::string_view file,
                                       const SpkiNameResolver* store) {
  PinsFile out{std::string(file)};
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // The final newline.
  auto error = [&](size_t index, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(file, ":", index + 1, ": ", what));
  };
  // The line holding the name whose value is expected next, or npos.
  size_t name_index = std::string::npos;
  std::string name;
  for (size_t i = 0; i < lines.size(); ++i) {
    const absl::string_view line = absl::StripTrailingAsciiWhitespace(lines[i]);
    if (name_index == std::string::npos) {
      if (line.empty() || absl::StartsWith(line, "#")) continue;
      if (!IsValidName(line)) return error(i, absl::StrCat("invalid SPKI name \"", line, "\""));
      name = std::string(line);
      name_index = i;
      continue;
    }
    const int name_line = static_cast<int>(name_index + 1);
    if (name == "PinsListTimestamp") {
      int64_t timestamp;
      if (!absl::SimpleAtoi(line, &timestamp) || timestamp < 0) {
        return error(i, "PinsListTimestamp must be followed by a Unix time");
      }
      out.timestamp = timestamp;
    } else if (absl::StartsWith(line, "sha256/")) {
      absl::StatusOr<SpkiHash> hash = ParseSha256Pin(line);
      if (!hash.ok()) return error(i, hash.status().message());
      RETURN_IF_ERROR(out.dictionary.Add(name, {*hash}, name_line));
      ++out.sha256_hashes;
    } else if (absl::StartsWith(line, "store:")) {
      if (store == nullptr) return error(i, "store: values are not allowed in this file");
      const std::string cert_name(absl::StripAsciiWhitespace(line.substr(6)));
      absl::StatusOr<std::vector<SpkiHash>> hashes = store->Resolve(cert_name);
      if (hashes.ok()) {
        RETURN_IF_ERROR(out.dictionary.Add(name, *std::move(hashes), name_line));
      } else {
        RETURN_IF_ERROR(out.dictionary.AddUnresolvable(
            name, absl::StrCat("certificate \"", cert_name, "\": ", hashes.status().message()),
            name_line));
      }
      ++out.store_names;
    } else if (line == "-----BEGIN CERTIFICATE-----" || line == "-----BEGIN PUBLIC KEY-----") {
      const bool is_certificate = line == "-----BEGIN CERTIFICATE-----";
      const std::string end =
          is_certificate ? "-----END CERTIFICATE-----" : "-----END PUBLIC KEY-----";
      size_t j = i + 1;
      while (j < lines.size() && absl::StripTrailingAsciiWhitespace(lines[j]) != end) ++j;
      if (j == lines.size()) {
        return error(i, absl::StrCat("PEM block of \"", name, "\" not closed"));
      }
      std::vector<absl::string_view> block(lines.begin() + i, lines.begin() + j + 1);
      const std::string pem = absl::StrCat(absl::StrJoin(block, "\n"), "\n");
      absl::StatusOr<SpkiHash> hash =
          is_certificate ? SpkiHashFromCertificatePem(pem) : SpkiHashFromPublicKeyPem(pem);
      if (!hash.ok()) return error(i, absl::StrCat("\"", name, "\": ", hash.status().message()));
      RETURN_IF_ERROR(out.dictionary.Add(name, {*hash}, name_line));
      ++(is_certificate ? out.certificates : out.public_keys);
      i = j;
    } else {
      return error(
          i, absl::StrCat("\"", name, "\" must be followed by a PEM block, sha256/ or store:"));
    }
    name_index = std::string::npos;
  }
  if (name_index != std::string::npos) {
    return error(name_index, absl::StrCat("\"", name, "\" has no value"));
  }
  return out;
}

}  // namespace pinning::client
