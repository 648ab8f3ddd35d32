#include "client/testing/test_certs.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace pinning::client::testing {
namespace {

std::unique_ptr<X509, decltype(&X509_free)> Parse(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return {d2i_X509(nullptr, &p, der.size()), &X509_free};
}

TEST(TestCertsTest, ChainIsSignedByItsIssuer) {
  const TestKey root_key = TestKey::GenerateEc();
  const TestKey leaf_key = TestKey::GenerateRsa(2048);
  const std::string root = MakeCertificateDer({.subject_cn = "Root",
                                               .subject_key = &root_key,
                                               .issuer_cn = "Root",
                                               .issuer_key = &root_key,
                                               .is_ca = true});
  const std::string leaf = MakeCertificateDer({.subject_cn = "leaf.example.com",
                                               .subject_o = "Example",
                                               .subject_key = &leaf_key,
                                               .issuer_cn = "Root",
                                               .issuer_key = &root_key});
  auto root_cert = Parse(root);
  auto leaf_cert = Parse(leaf);
  ASSERT_NE(root_cert, nullptr);
  ASSERT_NE(leaf_cert, nullptr);
  EXPECT_EQ(X509_verify(leaf_cert.get(), root_key.get()), 1);
  EXPECT_NE(X509_verify(leaf_cert.get(), leaf_key.get()), 1);
  EXPECT_EQ(X509_check_ca(root_cert.get()), 1);
  EXPECT_EQ(X509_check_ca(leaf_cert.get()), 0);
  EXPECT_NE(DerCertificateToPem(leaf).find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(root_key.PublicKeyDer(), leaf_key.PublicKeyDer());
}

}  // namespace
}  // namespace pinning::client::testing
