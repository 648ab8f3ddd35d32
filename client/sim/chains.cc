#include "client/sim/chains.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pinning::client::sim {
namespace {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct NameDeleter {
  void operator()(X509_NAME* n) const { X509_NAME_free(n); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using NamePtr = std::unique_ptr<X509_NAME, NameDeleter>;

absl::Status OpensslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("OpenSSL: ", what));
}

absl::StatusOr<std::string> SpkiSha256(X509* cert) {
  unsigned char* der = nullptr;
  const int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (size <= 0) return OpensslError("i2d_X509_PUBKEY");
  std::string hash(SHA256_DIGEST_LENGTH, '\0');
  SHA256(der, static_cast<size_t>(size), reinterpret_cast<unsigned char*>(hash.data()));
  OPENSSL_free(der);
  return hash;
}

absl::StatusOr<std::string> ToDer(X509* cert) {
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert, &der);
  if (size <= 0) return OpensslError("i2d_X509");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

NamePtr NameWithCn(absl::string_view cn, absl::string_view organization) {
  NamePtr name(X509_NAME_new());
  if (!organization.empty()) {
    X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(organization.data()),
                               static_cast<int>(organization.size()), -1, 0);
  }
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.data()),
                             static_cast<int>(cn.size()), -1, 0);
  return name;
}

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// MakeCert returns a certificate for `subject_key` named `subject`, issued by `issuer_name`,
// signed with `signing_key`, valid for a year from now.
absl::StatusOr<X509Ptr> MakeCert(long serial, EVP_PKEY* subject_key, const X509_NAME* subject,
                                 const X509_NAME* issuer_name, EVP_PKEY* signing_key, bool is_ca,
                                 absl::string_view dns_name) {
  X509Ptr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600) == nullptr ||
      X509_set_pubkey(cert.get(), subject_key) != 1 ||
      X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer_name) != 1) {
    return OpensslError("building a certificate");
  }
  if (!AddExtension(cert.get(), cert.get(), NID_basic_constraints,
                    is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE")) {
    return OpensslError("basicConstraints");
  }
  if (!dns_name.empty() && !AddExtension(cert.get(), cert.get(), NID_subject_alt_name,
                                         absl::StrCat("DNS:", dns_name).c_str())) {
    return OpensslError("subjectAltName");
  }
  if (X509_sign(cert.get(), signing_key, EVP_sha256()) <= 0) return OpensslError("X509_sign");
  return cert;
}

}  // namespace

absl::StatusOr<std::vector<SystemRoot>> LoadSystemRoots(const std::string& bundle_path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(bundle_path.c_str(), "r"), &BIO_free);
  if (bio == nullptr) return absl::NotFoundError(absl::StrCat("cannot read ", bundle_path));
  std::vector<SystemRoot> roots;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    absl::StatusOr<std::string> der = ToDer(cert.get());
    absl::StatusOr<std::string> spki = SpkiSha256(cert.get());
    if (!der.ok() || !spki.ok()) continue;
    char* line = X509_NAME_oneline(X509_get_subject_name(cert.get()), nullptr, 0);
    roots.push_back({*std::move(der), *std::move(spki), line == nullptr ? "" : line});
    OPENSSL_free(line);
  }
  if (roots.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no certificate in ", bundle_path));
  }
  return roots;
}

absl::StatusOr<std::vector<const SystemRoot*>> FindPinnedRoots(
    const v1::Pinset& pinset, const std::vector<SystemRoot>& roots) {
  std::vector<const SystemRoot*> found;
  for (const SystemRoot& root : roots) {
    for (const std::string& pin : pinset.spki_sha256()) {
      if (pin == root.spki_sha256) {
        found.push_back(&root);
        break;
      }
    }
  }
  if (found.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no certificate of the system CA store is pinned by pinset ", pinset.name()));
  }
  return found;
}

absl::StatusOr<std::vector<std::array<uint8_t, 32>>> ChainSpkiHashes(
    const std::vector<std::string>& der_chain) {
  std::vector<std::array<uint8_t, 32>> hashes;
  for (const std::string& der : der_chain) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (cert == nullptr) return absl::InvalidArgumentError("a chain certificate does not parse");
    absl::StatusOr<std::string> spki = SpkiSha256(cert.get());
    if (!spki.ok()) return spki.status();
    std::array<uint8_t, 32> hash;
    std::copy(spki->begin(), spki->end(), hash.begin());
    hashes.push_back(hash);
  }
  return hashes;
}

struct ChainMaker::Keys {
  PkeyPtr leaf;
  PkeyPtr intermediate;
  // The interception chain has keys of its own, as a middlebox would.
  PkeyPtr interception_leaf;
  PkeyPtr interception_intermediate;
  PkeyPtr interception_root;
  X509Ptr interception_root_cert;
};

ChainMaker::ChainMaker() : keys_(std::make_unique<Keys>()) {
  keys_->leaf.reset(EVP_EC_gen("P-256"));
  keys_->intermediate.reset(EVP_EC_gen("P-256"));
  keys_->interception_leaf.reset(EVP_EC_gen("P-256"));
  keys_->interception_intermediate.reset(EVP_EC_gen("P-256"));
  keys_->interception_root.reset(EVP_EC_gen("P-256"));
}

ChainMaker::~ChainMaker() = default;

absl::StatusOr<std::vector<std::string>> ChainMaker::ChainUnderRoot(absl::string_view host,
                                                                    const SystemRoot& root) {
  if (keys_->leaf == nullptr || keys_->intermediate == nullptr) {
    return OpensslError("EC key generation");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(root.der.data());
  X509Ptr root_cert(d2i_X509(nullptr, &p, static_cast<long>(root.der.size())));
  if (root_cert == nullptr) return OpensslError("d2i_X509 of a system root");
  NamePtr intermediate_name = NameWithCn("Simulated Issuing CA", "Simulated Web PKI");
  absl::StatusOr<X509Ptr> intermediate =
      MakeCert(next_serial_++, keys_->intermediate.get(), intermediate_name.get(),
               X509_get_subject_name(root_cert.get()), keys_->intermediate.get(), true, "");
  if (!intermediate.ok()) return intermediate.status();
  NamePtr leaf_name = NameWithCn(host, "");
  absl::StatusOr<X509Ptr> leaf =
      MakeCert(next_serial_++, keys_->leaf.get(), leaf_name.get(), intermediate_name.get(),
               keys_->intermediate.get(), false, host);
  if (!leaf.ok()) return leaf.status();
  std::vector<std::string> chain;
  for (X509* cert : {leaf->get(), intermediate->get()}) {
    absl::StatusOr<std::string> der = ToDer(cert);
    if (!der.ok()) return der.status();
    chain.push_back(*std::move(der));
  }
  chain.push_back(root.der);
  return chain;
}

absl::StatusOr<std::vector<std::string>> ChainMaker::InterceptionChain(absl::string_view host) {
  if (keys_->interception_leaf == nullptr || keys_->interception_intermediate == nullptr ||
      keys_->interception_root == nullptr) {
    return OpensslError("EC key generation");
  }
  NamePtr root_name = NameWithCn("Corporate TLS Inspection Root", "Simulated Middlebox");
  if (keys_->interception_root_cert == nullptr) {
    absl::StatusOr<X509Ptr> root =
        MakeCert(next_serial_++, keys_->interception_root.get(), root_name.get(), root_name.get(),
                 keys_->interception_root.get(), true, "");
    if (!root.ok()) return root.status();
    keys_->interception_root_cert = *std::move(root);
  }
  NamePtr intermediate_name = NameWithCn("TLS Inspection Issuing CA", "Simulated Middlebox");
  absl::StatusOr<X509Ptr> intermediate =
      MakeCert(next_serial_++, keys_->interception_intermediate.get(), intermediate_name.get(),
               root_name.get(), keys_->interception_root.get(), true, "");
  if (!intermediate.ok()) return intermediate.status();
  NamePtr leaf_name = NameWithCn(host, "");
  absl::StatusOr<X509Ptr> leaf =
      MakeCert(next_serial_++, keys_->interception_leaf.get(), leaf_name.get(),
               intermediate_name.get(), keys_->interception_intermediate.get(), false, host);
  if (!leaf.ok()) return leaf.status();
  std::vector<std::string> chain;
  for (X509* cert : {leaf->get(), intermediate->get(), keys_->interception_root_cert.get()}) {
    absl::StatusOr<std::string> der = ToDer(cert);
    if (!der.ok()) return der.status();
    chain.push_back(*std::move(der));
  }
  return chain;
}

}  // namespace pinning::client::sim
