#include "client/spki.h"

#include <string>

#include "client/testing/test_certs.h"
#include "client/testing/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::pinning::client::testing::CertificateSpec;
using ::pinning::client::testing::DerCertificateToPem;
using ::pinning::client::testing::MakeCertificateDer;
using ::pinning::client::testing::OpensslSpkiSha256Hex;
using ::pinning::client::testing::TestKey;
using ::pinning::client::testing::WriteTempFile;

std::string SelfSigned(const TestKey& key, const std::string& cn, long serial = 1) {
  return MakeCertificateDer({.subject_cn = cn,
                             .subject_key = &key,
                             .issuer_cn = cn,
                             .issuer_key = &key,
                             .is_ca = true,
                             .serial = serial});
}

std::string HexOrDie(const absl::StatusOr<SpkiHash>& hash) {
  EXPECT_TRUE(hash.ok()) << hash.status();
  return hash.ok() ? SpkiHashToHex(*hash) : "";
}

TEST(SpkiTest, CertificateHashMatchesOpensslCommand) {
  const TestKey ec = TestKey::GenerateEc();
  const TestKey rsa = TestKey::GenerateRsa(2048);
  for (const TestKey* key : {&ec, &rsa}) {
    const std::string der = SelfSigned(*key, "Hash Test");
    const std::string pem = DerCertificateToPem(der);
    const std::string path = WriteTempFile("spki_cert.pem", pem);
    absl::StatusOr<std::string> expected = OpensslSpkiSha256Hex(path, /*is_public_key=*/false);
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(HexOrDie(SpkiHashFromCertificateDer(der)), *expected);
    EXPECT_EQ(HexOrDie(SpkiHashFromCertificatePem(pem)), *expected);
  }
}

TEST(SpkiTest, PublicKeyHashMatchesOpensslCommand) {
  const TestKey key = TestKey::GenerateEc();
  const std::string path = WriteTempFile("spki_key.pem", key.PublicKeyPem());
  absl::StatusOr<std::string> expected = OpensslSpkiSha256Hex(path, /*is_public_key=*/true);
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_EQ(HexOrDie(SpkiHashFromPublicKeyPem(key.PublicKeyPem())), *expected);
  EXPECT_EQ(HexOrDie(SpkiHashFromPublicKeyDer(key.PublicKeyDer())), *expected);
  // The certificate of the same key has the same pin.
  EXPECT_EQ(HexOrDie(SpkiHashFromCertificateDer(SelfSigned(key, "K"))), *expected);
}

TEST(SpkiTest, SystemRootMatchesOpensslCommand) {
  const std::string path = "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt";
  absl::StatusOr<std::string> expected = OpensslSpkiSha256Hex(path, /*is_public_key=*/false);
  ASSERT_TRUE(expected.ok()) << expected.status() << " (ca-certificates must be installed)";
  absl::StatusOr<std::string> pem = testing::RunShellCommand("cat " + path);
  ASSERT_TRUE(pem.ok());
  absl::StatusOr<std::string> der = CertificateDerFromPem(*pem);
  ASSERT_TRUE(der.ok()) << der.status();
  EXPECT_EQ(HexOrDie(SpkiHashFromCertificateDer(*der)), *expected);
}

TEST(SpkiTest, ReissuedCertificateKeepsItsPin) {
  const TestKey key = TestKey::GenerateEc();
  const TestKey other = TestKey::GenerateEc();
  const std::string a = SelfSigned(key, "First", 1);
  const std::string b = SelfSigned(key, "Second", 2);
  ASSERT_NE(a, b);
  EXPECT_EQ(HexOrDie(SpkiHashFromCertificateDer(a)), HexOrDie(SpkiHashFromCertificateDer(b)));
  EXPECT_NE(HexOrDie(SpkiHashFromCertificateDer(a)),
            HexOrDie(SpkiHashFromCertificateDer(SelfSigned(other, "First"))));
}

TEST(SpkiTest, RejectsMalformedInput) {
  EXPECT_EQ(SpkiHashFromCertificateDer("not a certificate").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SpkiHashFromCertificateDer("").status().code(), absl::StatusCode::kInvalidArgument);
  const TestKey key = TestKey::GenerateEc();
  const std::string der = SelfSigned(key, "T");
  EXPECT_EQ(SpkiHashFromCertificateDer(der + "x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SpkiHashFromCertificateDer(der.substr(0, der.size() - 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SpkiHashFromPublicKeyDer(der).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SpkiHashFromCertificatePem("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                       "-----END CERTIFICATE-----\n")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(SpkiHashFromPublicKeyPem(DerCertificateToPem(der)).ok());
}

TEST(SpkiTest, Sha256PinNotation) {
  absl::StatusOr<SpkiHash> zero =
      ParseSha256Pin("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(SpkiHashToHex(*zero), std::string(64, '0'));

  SpkiHash counting;
  for (int i = 0; i < 32; ++i) counting[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(SpkiHashToHex(counting),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  // base64 of bytes 0..31, computed by hand from RFC 4648's alphabet.
  EXPECT_EQ(SpkiHashToBase64Pin(counting), "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  absl::StatusOr<SpkiHash> back = ParseSha256Pin(SpkiHashToBase64Pin(counting));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, counting);

  EXPECT_FALSE(ParseSha256Pin("sha1/AAAAAAAAAAAAAAAAAAAAAAAAAAA=").ok());
  EXPECT_FALSE(ParseSha256Pin("sha256/AAAA").ok()) << "3 bytes";
  EXPECT_FALSE(ParseSha256Pin("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ").ok());
  EXPECT_FALSE(ParseSha256Pin("sha256/!!!!").ok());
}

TEST(SpkiTest, RawBytesRoundTrip) {
  SpkiHash h{};
  h[0] = 0xab;
  h[31] = 0xcd;
  absl::StatusOr<SpkiHash> back = SpkiHashFromBytes(SpkiHashAsBytes(h));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
  EXPECT_FALSE(SpkiHashFromBytes(std::string(31, 'x')).ok());
}

}  // namespace
}  // namespace pinning::client
