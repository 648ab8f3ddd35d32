#include "client/pin_checker.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/catalog.h"
#include "client/testing/test_certs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::pinning::client::testing::MakeCertificateDer;
using ::pinning::client::testing::TestKey;
using ::pinning::v1::PIN_MODE_ENFORCE;
using ::pinning::v1::PIN_MODE_TEST;

SpkiHash HashOf(const TestKey& key) { return *SpkiHashFromPublicKeyDer(key.PublicKeyDer()); }

class PinCheckerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new TestKey(TestKey::GenerateEc());
    intermediate_ = new TestKey(TestKey::GenerateEc());
    leaf_ = new TestKey(TestKey::GenerateEc());
    other_root_ = new TestKey(TestKey::GenerateEc());
    bad_ = new TestKey(TestKey::GenerateEc());
  }

  void SetUp() override {
    PinList list;
    // "p" pins the root; "q" pins the intermediate and forbids `bad_`.
    list.pinsets = {{"p", {HashOf(*root_)}, {}}, {"q", {HashOf(*intermediate_)}, {HashOf(*bad_)}}};
    list.entries = {
        {"example.com", true, "p", false, 0},          {"www.example.com", false, "q", false, 0},
        {"deep.sub.example.com", true, "q", false, 0}, {"exact.test", false, "p", false, 0},
        {"test-mode.example.org", true, "p", true, 0},
    };
    absl::StatusOr<BuiltCatalog> built =
        BuildCatalog(list, OrganizationMap(OrganizationMap::Map{{"p", "P Org"}, {"q", "Q Org"}}));
    ASSERT_TRUE(built.ok()) << built.status();
    absl::StatusOr<PinChecker> checker = PinChecker::Create(built->catalog);
    ASSERT_TRUE(checker.ok()) << checker.status();
    checker_ = std::make_unique<PinChecker>(*std::move(checker));
  }

  // root -> intermediate -> leaf, signed properly; `root_key` picks the root.
  static std::vector<std::string> Chain(const TestKey& root_key, const TestKey* extra = nullptr) {
    std::vector<std::string> chain = {
        MakeCertificateDer({.subject_cn = "leaf",
                            .subject_key = leaf_,
                            .issuer_cn = "Inter",
                            .issuer_key = intermediate_}),
        MakeCertificateDer({.subject_cn = "Inter",
                            .subject_key = intermediate_,
                            .issuer_cn = "Root",
                            .issuer_key = &root_key,
                            .is_ca = true}),
        MakeCertificateDer({.subject_cn = "Root",
                            .subject_key = &root_key,
                            .issuer_cn = "Root",
                            .issuer_key = &root_key,
                            .is_ca = true}),
    };
    if (extra != nullptr) {
      chain.push_back(MakeCertificateDer({.subject_cn = "Extra",
                                          .subject_key = extra,
                                          .issuer_cn = "Extra",
                                          .issuer_key = extra,
                                          .is_ca = true}));
    }
    return chain;
  }

  std::string Matched(absl::string_view host) {
    std::optional<HostMatch> m = checker_->FindHost(host);
    if (!m.has_value()) return "<not pinned>";
    return absl::StrCat(m->entry->host(), "/", checker_->catalog().pinsets(m->pinset_index).name());
  }

  PinCheckResult MustCheck(absl::string_view host, const std::vector<std::string>& chain) {
    absl::StatusOr<PinCheckResult> r = checker_->Check(host, chain);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : PinCheckResult();
  }

  static TestKey* root_;
  static TestKey* intermediate_;
  static TestKey* leaf_;
  static TestKey* other_root_;
  static TestKey* bad_;
  std::unique_ptr<PinChecker> checker_;
};

TestKey* PinCheckerTest::root_;
TestKey* PinCheckerTest::intermediate_;
TestKey* PinCheckerTest::leaf_;
TestKey* PinCheckerTest::other_root_;
TestKey* PinCheckerTest::bad_;

TEST_F(PinCheckerTest, ExactMatch) {
  EXPECT_EQ(Matched("exact.test"), "exact.test/p");
  EXPECT_EQ(Matched("sub.exact.test"), "<not pinned>") << "no include_subdomains";
  EXPECT_EQ(Matched("example.com"), "example.com/p");
}

TEST_F(PinCheckerTest, SubdomainMatch) {
  EXPECT_EQ(Matched("a.example.com"), "example.com/p");
  EXPECT_EQ(Matched("a.b.c.example.com"), "example.com/p");
  EXPECT_EQ(Matched("x.test-mode.example.org"), "test-mode.example.org/p");
}

TEST_F(PinCheckerTest, MostSpecificEntryWins) {
  EXPECT_EQ(Matched("www.example.com"), "www.example.com/q");
  // www.example.com does not include subdomains, so its subdomains fall back to example.com.
  EXPECT_EQ(Matched("x.www.example.com"), "example.com/p");
  EXPECT_EQ(Matched("deep.sub.example.com"), "deep.sub.example.com/q");
  EXPECT_EQ(Matched("x.y.deep.sub.example.com"), "deep.sub.example.com/q");
  EXPECT_EQ(Matched("sub.example.com"), "example.com/p");
}

TEST_F(PinCheckerTest, CaseInsensitiveAndTrailingDot) {
  EXPECT_EQ(Matched("WWW.Example.COM"), "www.example.com/q");
  EXPECT_EQ(Matched("www.example.com."), "www.example.com/q");
  EXPECT_EQ(Matched("A.EXAMPLE.COM."), "example.com/p");
  EXPECT_EQ(Matched("EXACT.TEST."), "exact.test/p");
}

TEST_F(PinCheckerTest, NotPinned) {
  for (const char* host : {"example.net", "notexample.com", "com", "example.com.evil.test", "", ".",
                           "..", "a..example.com", "example.com..", "*.example.com"}) {
    EXPECT_EQ(Matched(host), "<not pinned>") << host;
    absl::StatusOr<PinCheckResult> r = checker_->Check(host, {"not even a certificate"});
    ASSERT_TRUE(r.ok()) << host << ": the chain of an unpinned host is not parsed";
    EXPECT_EQ(r->verdict, PinVerdict::kNotPinned);
    EXPECT_FALSE(r->ShouldBlockConnection());
  }
}

TEST_F(PinCheckerTest, ChainWithPinnedRootIsSatisfied) {
  const PinCheckResult r = MustCheck("mail.example.com", Chain(*root_));
  EXPECT_EQ(r.verdict, PinVerdict::kSatisfied);
  EXPECT_EQ(r.mode, PIN_MODE_ENFORCE);
  EXPECT_EQ(r.matched_host, "example.com");
  EXPECT_EQ(r.pinset_index, 0u);
  EXPECT_FALSE(r.bad_spki_found);
  EXPECT_FALSE(r.ShouldBlockConnection());
  // Order does not matter.
  std::vector<std::string> reversed = Chain(*root_);
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(MustCheck("mail.example.com", reversed).verdict, PinVerdict::kSatisfied);
}

TEST_F(PinCheckerTest, ChainWithOtherRootIsViolatedAndBlocked) {
  const PinCheckResult r = MustCheck("mail.example.com", Chain(*other_root_));
  EXPECT_EQ(r.verdict, PinVerdict::kViolated);
  EXPECT_TRUE(r.violated());
  EXPECT_FALSE(r.bad_spki_found);
  EXPECT_TRUE(r.ShouldBlockConnection());
}

TEST_F(PinCheckerTest, TestModeViolationIsNotBlocked) {
  const PinCheckResult r = MustCheck("x.test-mode.example.org", Chain(*other_root_));
  EXPECT_EQ(r.verdict, PinVerdict::kViolated);
  EXPECT_EQ(r.mode, PIN_MODE_TEST);
  EXPECT_FALSE(r.ShouldBlockConnection());
  EXPECT_EQ(MustCheck("x.test-mode.example.org", Chain(*root_)).verdict, PinVerdict::kSatisfied);
}

TEST_F(PinCheckerTest, BadHashViolatesEvenWithAPinnedKey) {
  // q pins the intermediate, present in both chains.
  EXPECT_EQ(MustCheck("www.example.com", Chain(*other_root_)).verdict, PinVerdict::kSatisfied);
  const PinCheckResult r = MustCheck("www.example.com", Chain(*root_, bad_));
  EXPECT_EQ(r.verdict, PinVerdict::kViolated);
  EXPECT_TRUE(r.bad_spki_found);
  EXPECT_EQ(r.pinset_index, 1u);
  EXPECT_TRUE(r.ShouldBlockConnection());
  // The bad key alone in pinset p's chain is not forbidden there.
  EXPECT_EQ(MustCheck("example.com", Chain(*root_, bad_)).verdict, PinVerdict::kSatisfied);
}

TEST_F(PinCheckerTest, CheckHashesAgreesWithCheck) {
  const std::vector<SpkiHash> chain = {HashOf(*leaf_), HashOf(*intermediate_), HashOf(*root_)};
  EXPECT_EQ(checker_->CheckHashes("a.example.com", chain).verdict, PinVerdict::kSatisfied);
  EXPECT_EQ(checker_->CheckHashes("a.example.com", {HashOf(*leaf_)}).verdict,
            PinVerdict::kViolated);
  EXPECT_EQ(checker_->CheckHashes("a.example.com", {}).verdict, PinVerdict::kViolated);
  EXPECT_EQ(checker_->CheckHashes("example.net", chain).verdict, PinVerdict::kNotPinned);
}

TEST_F(PinCheckerTest, PinnedHostWithBrokenChainIsAnError) {
  EXPECT_EQ(checker_->Check("example.com", {}).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> chain = Chain(*root_);
  chain[1] = "garbage";
  absl::StatusOr<PinCheckResult> r = checker_->Check("example.com", chain);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("certificate #1"));
}

TEST_F(PinCheckerTest, CreateRejectsInvalidCatalogs) {
  pinning::v1::Catalog broken = checker_->catalog();
  broken.mutable_hosts(0)->set_pinset_index(7);
  EXPECT_EQ(PinChecker::Create(broken).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinning::client
