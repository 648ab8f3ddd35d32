#include "client/testing/test_env.h"

#include <stdlib.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace pinning::client::testing {
namespace {

TEST(TestEnvTest, FindsThePinLists) {
  absl::StatusOr<std::string> dir = PinListsDir();
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_TRUE(absl::EndsWith(*dir, "pinlists")) << *dir;
}

TEST(TestEnvTest, ExplicitDirectoryWithoutListsIsAnError) {
  const char* old = getenv("PINLISTS_DIR");
  const std::string saved = old != nullptr ? old : "";
  setenv("PINLISTS_DIR", "/nonexistent", 1);
  absl::StatusOr<std::string> dir = PinListsDir();
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kNotFound);
  if (old != nullptr) {
    setenv("PINLISTS_DIR", saved.c_str(), 1);
  } else {
    unsetenv("PINLISTS_DIR");
  }
}

TEST(TestEnvTest, RunShellCommandReturnsOutputAndFailures) {
  absl::StatusOr<std::string> out = RunShellCommand("echo hello");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "hello\n");
  EXPECT_FALSE(RunShellCommand("exit 3").ok());
}

TEST(TestEnvTest, OpensslHashOfAKnownKey) {
  // The SPKI of this key and its SHA-256 were produced once by `openssl genpkey -algorithm
  // ed25519` and the command pipeline in the header; Ed25519 SPKIs are 44 bytes.
  const std::string pem =
      "-----BEGIN PUBLIC KEY-----\n"
      "MCowBQYDK2VwAyEA36byzgmOrlelsuvQlMlOZ9jUuIToGPvgzl9hBpLRYaI=\n"
      "-----END PUBLIC KEY-----\n";
  const std::string path = WriteTempFile("ed25519.pem", pem);
  absl::StatusOr<std::string> hex = OpensslSpkiSha256Hex(path, /*is_public_key=*/true);
  ASSERT_TRUE(hex.ok()) << hex.status();
  // sha256 of the 44 DER bytes, cross-checked with `base64 -d | sha256sum`.
  absl::StatusOr<std::string> check = RunShellCommand(
      "echo MCowBQYDK2VwAyEA36byzgmOrlelsuvQlMlOZ9jUuIToGPvgzl9hBpLRYaI= | base64 -d | "
      "sha256sum | cut -d' ' -f1");
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(*hex + "\n", *check);
}

}  // namespace
}  // namespace pinning::client::testing
