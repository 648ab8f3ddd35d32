// auth.h: bearer tokens with roles for the Query and Admin services (DESIGN §7).
//
// A token file has one token per line: `TOKEN ROLE NAME`, where ROLE is `reader` or
// `privacy-admin` and NAME identifies the holder in audit records. Blank lines and lines starting
// with `#` are ignored. Tokens must be at least 16 characters long.
//
//   ASSIGN_OR_RETURN(TokenStore tokens, TokenStore::LoadFile("/etc/aggregatord/tokens"));
//   absl::StatusOr<Principal> who =
//       tokens.Authorize(authorization_metadata_value, Role::kReader);
//   if (!who.ok()) return who.status();  // UNAUTHENTICATED or PERMISSION_DENIED
//
// Only SHA-256 digests of the tokens are kept in memory. A presented token is hashed and compared
// with every stored digest using CRYPTO_memcmp over the equal-length digests, without stopping at a
// match, so neither the position of a match nor the length of a common prefix shows in the timing.
//
// Rotation: Replace swaps in a newly loaded set as a whole (aggregatord does it on SIGHUP), so a
// call is checked against the old set or the new one, never a mix. Thread-safe.
#ifndef AGGREGATOR_SERVE_AUTH_H_
#define AGGREGATOR_SERVE_AUTH_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace pinning::aggregator {

// Role is what a token may do. kPrivacyAdmin includes everything kReader may do.
enum class Role { kReader, kPrivacyAdmin };

// RoleName returns "reader" or "privacy-admin".
absl::string_view RoleName(Role role);

// Principal is the authenticated holder of a token.
struct Principal {
  std::string name;
  Role role = Role::kReader;
};

// kMinTokenLength is the shortest token a token file may contain.
inline constexpr size_t kMinTokenLength = 16;

class TokenStore {
 public:
  // Parse reads token-file text. INVALID_ARGUMENT names the line for a malformed line, an unknown
  // role, a short token, or a duplicate token.
  static absl::StatusOr<TokenStore> Parse(absl::string_view text);

  // LoadFile reads and parses a token file; NOT_FOUND when it cannot be read.
  static absl::StatusOr<TokenStore> LoadFile(const std::string& path);

  // Authenticate accepts the value of the `authorization` request header, `Bearer TOKEN`.
  // UNAUTHENTICATED when the header is empty, malformed, or names no known token.
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization) const;

  // Authorize authenticates and then checks that the holder has `required` (a privacy-admin
  // token satisfies kReader). PERMISSION_DENIED for a valid token with too weak a role.
  absl::StatusOr<Principal> Authorize(absl::string_view authorization, Role required) const;

  // Replace makes `other`'s tokens the ones accepted from now on (`other` is left empty).
  void Replace(TokenStore&& other) ABSL_LOCKS_EXCLUDED(mu_);

  // size returns the number of tokens.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

  TokenStore(TokenStore&& other);
  TokenStore& operator=(TokenStore&& other);

 private:
  struct Entry {
    std::array<uint8_t, 32> digest;
    Principal principal;
  };
  using Entries = std::shared_ptr<const std::vector<Entry>>;
  explicit TokenStore(Entries entries) : entries_(std::move(entries)) {}
  Entries Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);
  Entries Take() ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  Entries entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_AUTH_H_
