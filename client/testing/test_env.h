// test_env.h: test helpers for files outside the repository and for the `openssl` command.
//
// The real pin lists live outside the repository (shared/data/pinlists, next to the work tree)
// and must not be copied into it. PinListsDir finds them: the PINLISTS_DIR environment variable
// (`bazel test --test_env=PINLISTS_DIR=...`), else `../shared/data/pinlists` relative to the
// workspace root, found through BUILD_WORKSPACE_DIRECTORY or by resolving the runfiles symlink
// of client/data/organizations.json (tests using this depend on //client:organizations_data).
// A test that needs the lists fails when they cannot be found; it never skips.
//
//   ASSERT_OK_AND_ASSIGN... absl::StatusOr<std::string> dir = PinListsDir();
//   ASSERT_TRUE(dir.ok()) << dir.status();
//   absl::StatusOr<std::string> hex = OpensslSpkiSha256Hex("/tmp/cert.pem",
//   /*is_public_key=*/false);
#ifndef CLIENT_TESTING_TEST_ENV_H_
#define CLIENT_TESTING_TEST_ENV_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pinning::client::testing {

// PinListsDir returns the directory holding chromium/ and firefox/ pin lists (see above).
// Errors: NOT_FOUND with a message saying what was tried and how to set PINLISTS_DIR.
absl::StatusOr<std::string> PinListsDir();

// RunShellCommand runs `command` with /bin/sh and returns its standard output.
// Errors: INTERNAL when it cannot start or exits non-zero.
absl::StatusOr<std::string> RunShellCommand(const std::string& command);

// OpensslSpkiSha256Hex computes the SHA-256 of the DER SubjectPublicKeyInfo of the PEM
// certificate (or, with `is_public_key`, PEM public key) in `pem_path` with the openssl command
// line tool: `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst
// -sha256`. It gives expected values computed independently of the code under test.
absl::StatusOr<std::string> OpensslSpkiSha256Hex(const std::string& pem_path, bool is_public_key);

// WriteTempFile writes `contents` to a fresh file under the test's temporary directory and
// returns its path.
std::string WriteTempFile(absl::string_view name, absl::string_view contents);

}  // namespace pinning::client::testing

#endif  // CLIENT_TESTING_TEST_ENV_H_
