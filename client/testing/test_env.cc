#include "client/testing/test_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace pinning::client::testing {
namespace {

bool IsDirectoryWithLists(const std::string& dir) {
  struct stat st;
  return stat(absl::StrCat(dir, "/chromium/transport_security_state_static_pins.json").c_str(),
              &st) == 0 &&
         stat(absl::StrCat(dir, "/firefox/PreloadedHPKPins.json").c_str(), &st) == 0;
}

std::string ShellQuote(absl::string_view s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

}  // namespace

absl::StatusOr<std::string> PinListsDir() {
  std::vector<std::string> tried;
  if (const char* env = getenv("PINLISTS_DIR"); env != nullptr && *env != '\0') {
    if (IsDirectoryWithLists(env)) return std::string(env);
    return absl::NotFoundError(
        absl::StrCat("PINLISTS_DIR=", env, " does not hold chromium/ and firefox/ pin lists"));
  }
  std::vector<std::string> roots;
  if (const char* ws = getenv("BUILD_WORKSPACE_DIRECTORY"); ws != nullptr && *ws != '\0') {
    roots.push_back(ws);
  }
  // Under `bazel test` the working directory is the runfiles tree, whose data files are
  // symlinks into the source tree.
  constexpr absl::string_view kMarker = "client/data/organizations.json";
  if (char* real = realpath(std::string(kMarker).c_str(), nullptr); real != nullptr) {
    absl::string_view path = real;
    if (absl::ConsumeSuffix(&path, kMarker)) roots.emplace_back(path);
    free(real);
  } else {
    tried.push_back(absl::StrCat("(runfile ", kMarker, " not found: add the data dependency)"));
  }
  for (const std::string& root : roots) {
    const std::string dir =
        absl::StrCat(root, absl::EndsWith(root, "/") ? "" : "/", "../shared/data/pinlists");
    if (IsDirectoryWithLists(dir)) return dir;
    tried.push_back(dir);
  }
  return absl::NotFoundError(
      absl::StrCat("the real pin lists were not found (tried: ", absl::StrJoin(tried, ", "),
                   "). Run the tests with --test_env=PINLISTS_DIR=/path/to/shared/data/pinlists"));
}

absl::StatusOr<std::string> RunShellCommand(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError(absl::StrCat("cannot run: ", command));
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  const int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("command failed (status ", status, "): ", command));
  }
  return out;
}

absl::StatusOr<std::string> OpensslSpkiSha256Hex(const std::string& pem_path, bool is_public_key) {
  const std::string first =
      is_public_key ? absl::StrCat("openssl pkey -pubin -in ", ShellQuote(pem_path))
                    : absl::StrCat("openssl x509 -in ", ShellQuote(pem_path), " -pubkey -noout");
  const std::string command =
      absl::StrCat("set -o pipefail 2>/dev/null; ", first,
                   " | openssl pkey -pubin -outform DER | openssl dgst -sha256");
  absl::StatusOr<std::string> out = RunShellCommand(absl::StrCat("bash -c ", ShellQuote(command)));
  if (!out.ok()) return out.status();
  // "SHA2-256(stdin)= <hex>" (OpenSSL 3) or "(stdin)= <hex>".
  const size_t eq = out->rfind("= ");
  if (eq == std::string::npos) return absl::InternalError(absl::StrCat("unexpected: ", *out));
  std::string hex(absl::StripAsciiWhitespace(out->substr(eq + 2)));
  if (hex.size() != 64) return absl::InternalError(absl::StrCat("unexpected: ", *out));
  return hex;
}

std::string WriteTempFile(absl::string_view name, absl::string_view contents) {
  const char* tmp = getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path;
}

}  // namespace pinning::client::testing
