#include "client/sim/chains.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "client/pin_checker.h"
#include "client/testing/test_env.h"
#include "client/upload/test_catalog.h"
#include "gtest/gtest.h"

namespace pinning::client::sim {
namespace {

std::string DerToPem(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  EXPECT_NE(cert, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  X509_free(cert);
  return pem;
}

TEST(ChainsTest, SystemRootsHaveTheSpkiHashTheOpensslCommandComputes) {
  absl::StatusOr<std::vector<SystemRoot>> roots = LoadSystemRoots(kSystemCaBundle);
  ASSERT_TRUE(roots.ok()) << roots.status();
  ASSERT_GT(roots->size(), 50u);  // Debian's Mozilla bundle has well over 100
  for (size_t i : {size_t{0}, roots->size() / 2, roots->size() - 1}) {
    const std::string path =
        testing::WriteTempFile("root" + std::to_string(i) + ".pem", DerToPem((*roots)[i].der));
    absl::StatusOr<std::string> expected = testing::OpensslSpkiSha256Hex(path, false);
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(absl::BytesToHexString((*roots)[i].spki_sha256), *expected) << (*roots)[i].subject;
  }
  EXPECT_EQ(LoadSystemRoots("/nonexistent/bundle.pem").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ChainsTest, ThePinCheckerAcceptsChainsUnderThePinnedRootAndRejectsInterception) {
  absl::StatusOr<std::vector<SystemRoot>> roots = LoadSystemRoots(kSystemCaBundle);
  ASSERT_TRUE(roots.ok());
  const SystemRoot& pinned_root = (*roots)[3];
  const SystemRoot& other_root = (*roots)[7];
  ASSERT_NE(pinned_root.spki_sha256, other_root.spki_sha256);
  const v1::Catalog catalog = MakeTestCatalogWithPins({pinned_root.spki_sha256});
  absl::StatusOr<std::vector<const SystemRoot*>> found =
      FindPinnedRoots(catalog.pinsets(0), *roots);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->front()->spki_sha256, pinned_root.spki_sha256);

  absl::StatusOr<PinChecker> checker = PinChecker::Create(catalog);
  ASSERT_TRUE(checker.ok()) << checker.status();
  ChainMaker maker;
  absl::StatusOr<std::vector<std::string>> good = maker.ChainUnderRoot("www.h0.test", pinned_root);
  ASSERT_TRUE(good.ok()) << good.status();
  ASSERT_EQ(good->size(), 3u);
  EXPECT_EQ(good->back(), pinned_root.der);  // the real root itself
  EXPECT_EQ(checker->Check("www.h0.test", *good)->verdict, PinVerdict::kSatisfied);

  // Checking the hashes of the chain decides the same way (what the simulator does).
  absl::StatusOr<std::vector<std::array<uint8_t, 32>>> good_hashes = ChainSpkiHashes(*good);
  ASSERT_TRUE(good_hashes.ok()) << good_hashes.status();
  ASSERT_EQ(good_hashes->size(), 3u);
  EXPECT_EQ(std::string(good_hashes->back().begin(), good_hashes->back().end()),
            pinned_root.spki_sha256);
  EXPECT_EQ(checker->CheckHashes("www.h0.test", *good_hashes).verdict, PinVerdict::kSatisfied);

  absl::StatusOr<std::vector<std::string>> elsewhere =
      maker.ChainUnderRoot("www.h0.test", other_root);
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_EQ(checker->Check("www.h0.test", *elsewhere)->verdict, PinVerdict::kViolated);

  absl::StatusOr<std::vector<std::string>> mitm = maker.InterceptionChain("www.h0.test");
  ASSERT_TRUE(mitm.ok()) << mitm.status();
  ASSERT_EQ(mitm->size(), 3u);
  EXPECT_EQ(checker->Check("www.h0.test", *mitm)->verdict, PinVerdict::kViolated);
  absl::StatusOr<std::vector<std::array<uint8_t, 32>>> mitm_hashes = ChainSpkiHashes(*mitm);
  ASSERT_TRUE(mitm_hashes.ok());
  EXPECT_EQ(checker->CheckHashes("www.h0.test", *mitm_hashes).verdict, PinVerdict::kViolated);
  EXPECT_FALSE(ChainSpkiHashes({"not a certificate"}).ok());
  // The interception chain shares no certificate with the real one.
  for (const std::string& cert : *mitm) {
    for (const std::string& real : *good) EXPECT_NE(cert, real);
  }
}

TEST(ChainsTest, FindPinnedRootsNamesAPinsetWithoutRoots) {
  absl::StatusOr<std::vector<SystemRoot>> roots = LoadSystemRoots(kSystemCaBundle);
  ASSERT_TRUE(roots.ok());
  const v1::Catalog catalog = MakeTestCatalog(1);  // made-up hashes
  absl::Status status = FindPinnedRoots(catalog.pinsets(0), *roots).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("p0"), absl::string_view::npos);
}

}  // namespace
}  // namespace pinning::client::sim
