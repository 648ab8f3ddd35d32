// test_certs.h: key pairs and X.509 certificates made on the fly for tests (OpenSSL).
//
// Pin-checking tests need chains whose SPKIs are known: a root, an intermediate and a leaf,
// each with its own fresh key. Keys are EC P-256 (fast) unless RSA is asked for.
//
//   TestKey root_key = TestKey::GenerateEc();
//   std::string root = MakeCertificateDer({.subject_cn = "Test Root", .subject_key = &root_key,
//                                          .issuer_cn = "Test Root", .issuer_key = &root_key,
//                                          .is_ca = true});
//   std::string pem = DerCertificateToPem(root);
#ifndef CLIENT_TESTING_TEST_CERTS_H_
#define CLIENT_TESTING_TEST_CERTS_H_

#include <openssl/evp.h>

#include <memory>
#include <string>

namespace pinning::client::testing {

// TestKey owns an OpenSSL key pair.
class TestKey {
 public:
  static TestKey GenerateEc();
  static TestKey GenerateRsa(int bits);

  EVP_PKEY* get() const { return key_.get(); }
  // PublicKeyDer is the DER SubjectPublicKeyInfo.
  std::string PublicKeyDer() const;
  // PublicKeyPem is the PEM "PUBLIC KEY" block.
  std::string PublicKeyPem() const;

 private:
  struct Deleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  explicit TestKey(EVP_PKEY* key) : key_(key) {}
  std::unique_ptr<EVP_PKEY, Deleter> key_;
};

struct CertificateSpec {
  std::string subject_cn;
  std::string subject_o;   // Optional organization.
  std::string subject_ou;  // Optional organizational unit.
  const TestKey* subject_key = nullptr;
  std::string issuer_cn;
  const TestKey* issuer_key = nullptr;  // Signs the certificate.
  bool is_ca = false;
  long serial = 1;
};

// MakeCertificateDer returns a DER certificate valid from now for one year, signed with
// SHA-256. Aborts the test binary on an OpenSSL failure.
std::string MakeCertificateDer(const CertificateSpec& spec);

// DerCertificateToPem returns the PEM "CERTIFICATE" block of a DER certificate.
std::string DerCertificateToPem(const std::string& der);

}  // namespace pinning::client::testing

#endif  // CLIENT_TESTING_TEST_CERTS_H_
