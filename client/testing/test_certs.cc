#include "client/testing/test_certs.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace pinning::client::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test_certs: OpenSSL failure: %s\n", what);
    std::abort();
  }
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, size);
}

void AddName(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) return;
  Check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) == 1,
        "add name entry");
}

}  // namespace

TestKey TestKey::GenerateEc() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "EC key generation");
  return TestKey(key);
}

TestKey TestKey::GenerateRsa(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned int>(bits));
  Check(key != nullptr, "RSA key generation");
  return TestKey(key);
}

std::string TestKey::PublicKeyDer() const {
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key_.get(), &der);
  Check(size > 0, "i2d_PUBKEY");
  std::string out(reinterpret_cast<char*>(der), size);
  OPENSSL_free(der);
  return out;
}

std::string TestKey::PublicKeyPem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  Check(PEM_write_bio_PUBKEY(bio.get(), key_.get()) == 1, "PEM_write_bio_PUBKEY");
  return BioContents(bio.get());
}

std::string MakeCertificateDer(const CertificateSpec& spec) {
  Check(spec.subject_key != nullptr && spec.issuer_key != nullptr, "keys given");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  Check(X509_set_version(cert.get(), 2) == 1, "version");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial) == 1, "serial");
  Check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) != nullptr, "notBefore");
  Check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600) != nullptr, "notAfter");
  Check(X509_set_pubkey(cert.get(), spec.subject_key->get()) == 1, "pubkey");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  AddName(subject, "O", spec.subject_o);
  AddName(subject, "OU", spec.subject_ou);
  AddName(subject, "CN", spec.subject_cn);
  std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)> issuer(X509_NAME_new(), &X509_NAME_free);
  AddName(issuer.get(), "CN", spec.issuer_cn);
  Check(X509_set_issuer_name(cert.get(), issuer.get()) == 1, "issuer");
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints,
                                            spec.is_ca ? "critical,CA:TRUE" : "CA:FALSE");
  Check(ext != nullptr, "basicConstraints");
  Check(X509_add_ext(cert.get(), ext, -1) == 1, "add extension");
  X509_EXTENSION_free(ext);
  Check(X509_sign(cert.get(), spec.issuer_key->get(), EVP_sha256()) > 0, "sign");
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert.get(), &der);
  Check(size > 0, "i2d_X509");
  std::string out(reinterpret_cast<char*>(der), size);
  OPENSSL_free(der);
  return out;
}

std::string DerCertificateToPem(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, der.size()), &X509_free);
  Check(cert != nullptr, "d2i_X509");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  Check(PEM_write_bio_X509(bio.get(), cert.get()) == 1, "PEM_write_bio_X509");
  return BioContents(bio.get());
}

}  // namespace pinning::client::testing
