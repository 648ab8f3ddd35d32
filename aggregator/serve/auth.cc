#include "aggregator/serve/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pinning::aggregator {
namespace {

std::array<uint8_t, 32> Sha256(absl::string_view data) {
  std::array<uint8_t, 32> digest;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return digest;
}

bool RoleAtLeast(Role have, Role required) {
  return have == Role::kPrivacyAdmin || have == required;
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kPrivacyAdmin:
      return "privacy-admin";
  }
  return "unknown";
}

absl::StatusOr<TokenStore> TokenStore::Parse(absl::string_view text) {
  std::vector<Entry> entries;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "token file line ", line_number, ": expected `TOKEN ROLE NAME`, got ", fields.size(),
          " fields"));
    }
    Entry entry;
    if (fields[1] == "reader") {
      entry.principal.role = Role::kReader;
    } else if (fields[1] == "privacy-admin") {
      entry.principal.role = Role::kPrivacyAdmin;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("token file line ", line_number,
                                                     ": unknown role '", fields[1],
                                                     "' (expected reader or privacy-admin)"));
    }
    if (fields[0].size() < kMinTokenLength) {
      return absl::InvalidArgumentError(absl::StrCat("token file line ", line_number,
                                                     ": token shorter than ", kMinTokenLength,
                                                     " characters"));
    }
    entry.digest = Sha256(fields[0]);
    entry.principal.name = std::string(fields[2]);
    for (const Entry& other : entries) {
      if (other.digest == entry.digest) {
        return absl::InvalidArgumentError(
            absl::StrCat("token file line ", line_number, ": duplicate token"));
      }
    }
    entries.push_back(std::move(entry));
  }
  return TokenStore(std::make_shared<const std::vector<Entry>>(std::move(entries)));
}

TokenStore::TokenStore(TokenStore&& other) : entries_(other.Take()) {}

TokenStore& TokenStore::operator=(TokenStore&& other) {
  if (this != &other) Replace(std::move(other));
  return *this;
}

TokenStore::Entries TokenStore::Take() {
  absl::MutexLock lock(&mu_);
  Entries taken = std::move(entries_);
  entries_ = std::make_shared<const std::vector<Entry>>();
  return taken;
}

TokenStore::Entries TokenStore::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return entries_;
}

void TokenStore::Replace(TokenStore&& other) {
  Entries replacement = other.Take();
  absl::MutexLock lock(&mu_);
  entries_ = std::move(replacement);
}

size_t TokenStore::size() const { return Snapshot()->size(); }

absl::StatusOr<TokenStore> TokenStore::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read token file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return Parse(buffer.str());
}

absl::StatusOr<Principal> TokenStore::Authenticate(absl::string_view authorization) const {
  constexpr absl::string_view kBearer = "Bearer ";
  if (authorization.empty()) {
    return absl::UnauthenticatedError("missing authorization: send `authorization: Bearer TOKEN`");
  }
  if (!absl::StartsWith(authorization, kBearer) || authorization.size() == kBearer.size()) {
    return absl::UnauthenticatedError("malformed authorization: expected `Bearer TOKEN`");
  }
  const std::array<uint8_t, 32> digest = Sha256(authorization.substr(kBearer.size()));
  // Visit every entry: the work done does not depend on which entry (if any) matches.
  const Entries entries = Snapshot();  // the set this call is checked against, whole
  const Entry* match = nullptr;
  for (const Entry& entry : *entries) {
    const bool equal = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    if (equal) match = &entry;
  }
  if (match == nullptr) return absl::UnauthenticatedError("unknown token");
  return match->principal;
}

absl::StatusOr<Principal> TokenStore::Authorize(absl::string_view authorization,
                                                Role required) const {
  absl::StatusOr<Principal> principal = Authenticate(authorization);
  if (!principal.ok()) return principal.status();
  if (!RoleAtLeast(principal->role, required)) {
    return absl::PermissionDeniedError(absl::StrCat("token '", principal->name, "' has role ",
                                                    RoleName(principal->role), "; this call needs ",
                                                    RoleName(required)));
  }
  return principal;
}

}  // namespace pinning::aggregator
