#include "privacy/hmac_sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include "absl/status/status.h"

namespace privacy {
namespace {

constexpr size_t kBlockSize = 64;

// Sha256 returns the process-wide fetched SHA-256 implementation (fetched once; never freed).
const EVP_MD* Sha256() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

absl::Status OpenSslError(const char* what) {
  return absl::InternalError(std::string("OpenSSL SHA-256 failure in ") + what);
}

}  // namespace

void PrefixedHmacSha256::CtxDeleter::operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }

absl::StatusOr<PrefixedHmacSha256> PrefixedHmacSha256::Create(absl::Span<const uint8_t> key,
                                                              absl::Span<const uint8_t> prefix) {
  const EVP_MD* md = Sha256();
  if (md == nullptr) return OpenSslError("EVP_MD_fetch");
  CtxPtr inner(EVP_MD_CTX_new()), outer(EVP_MD_CTX_new()), work(EVP_MD_CTX_new());
  if (!inner || !outer || !work) return OpenSslError("EVP_MD_CTX_new");

  uint8_t block_key[kBlockSize] = {0};
  if (key.size() > kBlockSize) {
    unsigned int len = 0;
    if (EVP_DigestInit_ex(work.get(), md, nullptr) != 1 ||
        EVP_DigestUpdate(work.get(), key.data(), key.size()) != 1 ||
        EVP_DigestFinal_ex(work.get(), block_key, &len) != 1) {
      return OpenSslError("key hashing");
    }
  } else if (!key.empty()) {
    std::memcpy(block_key, key.data(), key.size());
  }
  uint8_t ipad[kBlockSize], opad[kBlockSize];
  for (size_t i = 0; i < kBlockSize; ++i) {
    ipad[i] = block_key[i] ^ 0x36;
    opad[i] = block_key[i] ^ 0x5c;
  }
  const bool ok =
      EVP_DigestInit_ex(inner.get(), md, nullptr) == 1 &&
      EVP_DigestUpdate(inner.get(), ipad, kBlockSize) == 1 &&
      (prefix.empty() || EVP_DigestUpdate(inner.get(), prefix.data(), prefix.size()) == 1) &&
      EVP_DigestInit_ex(outer.get(), md, nullptr) == 1 &&
      EVP_DigestUpdate(outer.get(), opad, kBlockSize) == 1;
  OPENSSL_cleanse(block_key, sizeof(block_key));
  OPENSSL_cleanse(ipad, sizeof(ipad));
  OPENSSL_cleanse(opad, sizeof(opad));
  if (!ok) return OpenSslError("keying");
  return PrefixedHmacSha256(std::move(inner), std::move(outer), std::move(work));
}

absl::StatusOr<PrefixedHmacSha256::Digest> PrefixedHmacSha256::Mac(
    absl::Span<const uint8_t> suffix) {
  Digest inner_digest, result;
  unsigned int len = 0;
  if (EVP_MD_CTX_copy_ex(work_.get(), inner_.get()) != 1 ||
      (!suffix.empty() && EVP_DigestUpdate(work_.get(), suffix.data(), suffix.size()) != 1) ||
      EVP_DigestFinal_ex(work_.get(), inner_digest.data(), &len) != 1 ||
      EVP_MD_CTX_copy_ex(work_.get(), outer_.get()) != 1 ||
      EVP_DigestUpdate(work_.get(), inner_digest.data(), inner_digest.size()) != 1 ||
      EVP_DigestFinal_ex(work_.get(), result.data(), &len) != 1) {
    return OpenSslError("Mac");
  }
  return result;
}

}  // namespace privacy
