// hmac_sha256.h: HMAC-SHA256 (RFC 2104, FIPS 198-1) keyed once, for many short messages that share
// a prefix.
//
// A one-shot OpenSSL 3 HMAC() fetches the digest, allocates a context and hashes the key blocks on
// every call. PrefixedHmacSha256 hashes (key ⊕ ipad) || prefix and (key ⊕ opad) once at creation
// and copies those SHA-256 states per message, so each MAC costs the message's own compression
// blocks plus the outer one.
//
// Usage:
//   absl::StatusOr<PrefixedHmacSha256> mac = PrefixedHmacSha256::Create(key, prefix);
//   if (!mac.ok()) return mac.status();
//   absl::StatusOr<PrefixedHmacSha256::Digest> tag = mac->Mac(suffix);  // HMAC(key,
//   prefix||suffix)
//
// Thread safety: Mac() uses a scratch context; one instance per thread.
#ifndef PRIVACY_HMAC_SHA256_H_
#define PRIVACY_HMAC_SHA256_H_

#include <array>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace privacy {

class PrefixedHmacSha256 {
 public:
  static constexpr size_t kDigestSize = 32;
  using Digest = std::array<uint8_t, kDigestSize>;

  // Create keys the MAC with `key` (any length; longer than 64 bytes is hashed first, as RFC 2104
  // says) and absorbs `prefix`. INTERNAL if OpenSSL fails.
  static absl::StatusOr<PrefixedHmacSha256> Create(absl::Span<const uint8_t> key,
                                                   absl::Span<const uint8_t> prefix);

  PrefixedHmacSha256(PrefixedHmacSha256&&) = default;
  PrefixedHmacSha256& operator=(PrefixedHmacSha256&&) = default;

  // Mac returns HMAC-SHA256(key, prefix || suffix). INTERNAL if OpenSSL fails.
  absl::StatusOr<Digest> Mac(absl::Span<const uint8_t> suffix);

 private:
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const;
  };
  using CtxPtr = std::unique_ptr<EVP_MD_CTX, CtxDeleter>;

  PrefixedHmacSha256(CtxPtr inner, CtxPtr outer, CtxPtr work)
      : inner_(std::move(inner)), outer_(std::move(outer)), work_(std::move(work)) {}

  CtxPtr inner_;  // SHA-256 state after (key ⊕ ipad) || prefix
  CtxPtr outer_;  // SHA-256 state after (key ⊕ opad)
  CtxPtr work_;   // scratch
};

}  // namespace privacy

#endif  // PRIVACY_HMAC_SHA256_H_
