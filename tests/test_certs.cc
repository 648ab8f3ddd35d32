#include "tests/test_certs.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pinning::tests {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter>;
using X509Ptr = std::unique_ptr<X509, Deleter>;
using BioPtr = std::unique_ptr<BIO, Deleter>;

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("OpenSSL failed: ", what));
}

PkeyPtr NewP256Key() { return PkeyPtr(EVP_EC_gen("P-256")); }

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return OpenSslError(absl::StrCat("extension ", value));
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? absl::OkStatus() : OpenSslError("X509_add_ext");
}

// NewCertificate makes a certificate for `key` named `common_name`, signed by `issuer_key` with
// `issuer` as issuer (nullptr: self-signed).
absl::StatusOr<X509Ptr> NewCertificate(EVP_PKEY* key, const char* common_name, long serial,
                                       X509* issuer, EVP_PKEY* issuer_key, bool is_ca) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  if (is_ca) {
    if (auto s = AddExtension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
        !s.ok()) {
      return s;
    }
    if (auto s = AddExtension(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
        !s.ok()) {
      return s;
    }
  } else {
    if (auto s = AddExtension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
        !s.ok()) {
      return s;
    }
    if (auto s = AddExtension(cert.get(), issuer_cert, NID_subject_alt_name,
                              "DNS:localhost,IP:127.0.0.1");
        !s.ok()) {
      return s;
    }
    if (auto s = AddExtension(cert.get(), issuer_cert, NID_ext_key_usage, "serverAuth");
        !s.ok()) {
      return s;
    }
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return OpenSslError("X509_sign");
  return cert;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

absl::StatusOr<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslError("PEM_write_bio_X509");
  return BioContents(bio.get());
}

absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("PEM_write_bio_PrivateKey");
  }
  return BioContents(bio.get());
}

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TestCertificates> MakeTestCertificates(const std::string& dir) {
  ::mkdir(dir.c_str(), 0700);
  PkeyPtr ca_key = NewP256Key();
  PkeyPtr server_key = NewP256Key();
  if (!ca_key || !server_key) return OpenSslError("EVP_EC_gen");
  absl::StatusOr<X509Ptr> ca =
      NewCertificate(ca_key.get(), "pinning test CA", 1, nullptr, ca_key.get(), true);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<X509Ptr> server =
      NewCertificate(server_key.get(), "localhost", 2, ca->get(), ca_key.get(), false);
  if (!server.ok()) return server.status();

  TestCertificates certs;
  absl::StatusOr<std::string> pem = CertPem(ca->get());
  if (!pem.ok()) return pem.status();
  certs.ca_pem = *pem;
  pem = CertPem(server->get());
  if (!pem.ok()) return pem.status();
  certs.server_cert_pem = *pem;
  pem = KeyPem(server_key.get());
  if (!pem.ok()) return pem.status();
  certs.server_key_pem = *pem;

  certs.ca_file = dir + "/ca.pem";
  certs.server_cert_file = dir + "/server.pem";
  certs.server_key_file = dir + "/server.key";
  for (const auto& [path, contents] :
       {std::pair{certs.ca_file, certs.ca_pem}, std::pair{certs.server_cert_file, certs.server_cert_pem},
        std::pair{certs.server_key_file, certs.server_key_pem}}) {
    if (absl::Status s = WriteFile(path, contents); !s.ok()) return s;
  }
  return certs;
}

}  // namespace pinning::tests
