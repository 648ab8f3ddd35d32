#include "client/spki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pinning::client {
namespace {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

SpkiHash Sha256(const unsigned char* data, size_t size) {
  SpkiHash hash;
  SHA256(data, size, hash.data());
  return hash;
}

absl::StatusOr<SpkiHash> HashOfCertificate(X509* cert) {
  X509_PUBKEY* pubkey = X509_get_X509_PUBKEY(cert);
  if (pubkey == nullptr) return absl::InvalidArgumentError("certificate has no public key");
  unsigned char* der = nullptr;
  const int size = i2d_X509_PUBKEY(pubkey, &der);
  if (size <= 0) return absl::InvalidArgumentError("cannot encode the certificate's SPKI");
  const SpkiHash hash = Sha256(der, size);
  OPENSSL_free(der);
  return hash;
}

absl::StatusOr<SpkiHash> HashOfPublicKey(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key, &der);
  if (size <= 0) return absl::InvalidArgumentError("cannot encode the public key");
  const SpkiHash hash = Sha256(der, size);
  OPENSSL_free(der);
  return hash;
}

BioPtr MemoryBio(absl::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

absl::StatusOr<X509Ptr> ReadPemCertificate(absl::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) return absl::InvalidArgumentError("no valid PEM CERTIFICATE block");
  return cert;
}

}  // namespace

absl::StatusOr<SpkiHash> SpkiHashFromCertificateDer(absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p,
                        static_cast<long>(der.size())));  // NOLINT(google-runtime-int): OpenSSL API
  if (cert == nullptr) return absl::InvalidArgumentError("not a DER X.509 certificate");
  if (p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return absl::InvalidArgumentError("trailing bytes after the DER certificate");
  }
  return HashOfCertificate(cert.get());
}

absl::StatusOr<SpkiHash> SpkiHashFromPublicKeyDer(absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PkeyPtr key(d2i_PUBKEY(
      nullptr, &p, static_cast<long>(der.size())));  // NOLINT(google-runtime-int): OpenSSL API
  if (key == nullptr) return absl::InvalidArgumentError("not a DER SubjectPublicKeyInfo");
  if (p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return absl::InvalidArgumentError("trailing bytes after the DER SubjectPublicKeyInfo");
  }
  // Hash the input bytes themselves: they are the SPKI, and re-encoding could normalize them.
  return Sha256(reinterpret_cast<const unsigned char*>(der.data()), der.size());
}

absl::StatusOr<SpkiHash> SpkiHashFromCertificatePem(absl::string_view pem) {
  absl::StatusOr<X509Ptr> cert = ReadPemCertificate(pem);
  if (!cert.ok()) return cert.status();
  return HashOfCertificate(cert->get());
}

absl::StatusOr<SpkiHash> SpkiHashFromPublicKeyPem(absl::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return absl::InvalidArgumentError("no valid PEM PUBLIC KEY block");
  return HashOfPublicKey(key.get());
}

absl::StatusOr<std::string> CertificateDerFromPem(absl::string_view pem) {
  absl::StatusOr<X509Ptr> cert = ReadPemCertificate(pem);
  if (!cert.ok()) return cert.status();
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert->get(), &der);
  if (size <= 0) return absl::InvalidArgumentError("cannot encode the certificate");
  std::string out(reinterpret_cast<char*>(der), size);
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<SpkiHash> ParseSha256Pin(absl::string_view text) {
  constexpr absl::string_view kPrefix = "sha256/";
  if (!absl::StartsWith(text, kPrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pin \"", text, "\" does not start with sha256/"));
  }
  const absl::string_view b64 = text.substr(kPrefix.size());
  std::string raw;
  // Base64Unescape accepts padding; reject anything that would not round-trip (e.g. whitespace).
  if (!absl::Base64Unescape(b64, &raw) || absl::Base64Escape(raw) != b64) {
    return absl::InvalidArgumentError(absl::StrCat("pin \"", text, "\" is not canonical base64"));
  }
  return SpkiHashFromBytes(raw);
}

std::string SpkiHashToHex(const SpkiHash& hash) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

std::string SpkiHashToBase64Pin(const SpkiHash& hash) {
  return absl::StrCat("sha256/", absl::Base64Escape(SpkiHashAsBytes(hash)));
}

absl::StatusOr<SpkiHash> SpkiHashFromBytes(absl::string_view bytes) {
  SpkiHash hash;
  if (bytes.size() != hash.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("an SPKI SHA-256 has 32 bytes, not ", bytes.size()));
  }
  for (size_t i = 0; i < hash.size(); ++i) hash[i] = static_cast<uint8_t>(bytes[i]);
  return hash;
}

std::string SpkiHashAsBytes(const SpkiHash& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), hash.size());
}

}  // namespace pinning::client
