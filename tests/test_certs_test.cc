#include "tests/test_certs.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <string>

#include "gtest/gtest.h"

namespace pinning::tests {
namespace {

X509* ParseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

// Verifies `leaf` against `ca` for the host name "localhost"; returns the X509 verify error.
int Verify(const std::string& ca_pem, const std::string& leaf_pem) {
  X509* ca = ParseCert(ca_pem);
  X509* leaf = ParseCert(leaf_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), "localhost", 0);
  X509_verify_cert(ctx);
  const int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(leaf);
  X509_free(ca);
  return err;
}

TEST(TestCertsTest, ServerCertificateChainsToItsCaOnly) {
  absl::StatusOr<TestCertificates> a = MakeTestCertificates(testing::TempDir() + "/a");
  absl::StatusOr<TestCertificates> b = MakeTestCertificates(testing::TempDir() + "/b");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Verify(a->ca_pem, a->server_cert_pem), X509_V_OK);
  EXPECT_NE(Verify(b->ca_pem, a->server_cert_pem), X509_V_OK);
  EXPECT_NE(a->server_key_pem.find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace pinning::tests
