#include "client/ca_store.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/file_io.h"
#include "client/pin_list.h"
#include "client/testing/test_certs.h"
#include "client/testing/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::pinning::client::testing::CertificateSpec;
using ::pinning::client::testing::TestKey;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kMozillaDir[] = "/usr/share/ca-certificates/mozilla";

// Every distinct certificate name used by Firefox's PreloadedHPKPins.json.
std::set<std::string> FirefoxNames() {
  absl::StatusOr<std::string> dir = testing::PinListsDir();
  EXPECT_TRUE(dir.ok()) << dir.status();
  if (!dir.ok()) return {};
  absl::StatusOr<std::string> text =
      ReadFileToString(absl::StrCat(*dir, "/firefox/PreloadedHPKPins.json"));
  EXPECT_TRUE(text.ok()) << text.status();
  absl::StatusOr<PinListDocument> doc = ParseFirefoxPinList(*text, "PreloadedHPKPins.json");
  EXPECT_TRUE(doc.ok()) << doc.status();
  std::set<std::string> names;
  if (!doc.ok()) return names;
  for (const PinsetSpec& p : doc->pinsets) {
    for (const SpkiNameRef& n : p.spki_names) names.insert(n.name);
  }
  return names;
}

struct Resolution {
  int with_file = 0;  // names with a root file in Debian's ca-certificates
  int resolved = 0;   // names the store resolved
};

// Checks every Firefox name against Debian's per-root files (named after the Mozilla nickname,
// spaces as '_'): a name with a file must resolve to exactly that file's SPKI, as computed by
// the openssl command; a name without one must not resolve. Which roots are still shipped depends
// on the installed ca-certificates (bookworm's 20230311: 21 of the 61 names; 20250419~deb12u2:
// 20), so the files, not a number written here, say how many names must resolve.
Resolution CheckAgainstMozillaFiles(const CaStore& store, CaStore::MatchMethod expected_method) {
  const std::set<std::string> names = FirefoxNames();
  EXPECT_EQ(names.size(), 61u) << "distinct names in PreloadedHPKPins.json";
  Resolution result;
  int& resolved = result.resolved;
  for (const std::string& name : names) {
    std::string file = name;
    for (char& c : file) {
      if (c == ' ') c = '_';
    }
    const std::string path = absl::StrCat(kMozillaDir, "/", file, ".crt");
    absl::StatusOr<CaStore::Match> match = store.Find(name);
    result.with_file += FileExists(path);
    if (!FileExists(path)) {
      EXPECT_FALSE(match.ok()) << name << " resolved but its root is not in the store";
      continue;
    }
    absl::StatusOr<std::string> expected = testing::OpensslSpkiSha256Hex(path, false);
    if (!expected.ok()) {
      ADD_FAILURE() << expected.status();
      continue;
    }
    if (!match.ok()) {
      ADD_FAILURE() << name << ": " << match.status();
      continue;
    }
    if (match->certificates.size() != 1) {
      ADD_FAILURE() << name << " matched " << match->certificates.size() << " certificates";
      continue;
    }
    EXPECT_EQ(SpkiHashToHex(match->certificates[0]->spki), *expected) << name;
    if (name == "Comodo AAA Services root" || name == "XRamp Global CA Root" ||
        name == "Entrust.net Premium 2048 Secure Server CA") {
      if (expected_method == CaStore::MatchMethod::kSubject) {
        EXPECT_EQ(match->method, CaStore::MatchMethod::kAlias) << name;
      }
    } else {
      EXPECT_EQ(match->method, expected_method) << name;
    }
    ++resolved;
  }
  return result;
}

// Most of the roots Firefox names are still shipped; fewer would make the checks above vacuous.
constexpr int kMinNamesWithFile = 15;

TEST(CaStoreTest, ResolvesFirefoxNamesBySubjectAlone) {
  absl::StatusOr<CaStore> store = CaStore::Load({.nickname_dir = ""});
  ASSERT_TRUE(store.ok()) << store.status();
  // Counted with `grep -c BEGIN /etc/ssl/certs/ca-certificates.crt` (Debian bookworm's
  // ca-certificates 20230311).
  EXPECT_GE(store->certificates().size(), 100u);
  const Resolution r = CheckAgainstMozillaFiles(*store, CaStore::MatchMethod::kSubject);
  EXPECT_GE(r.with_file, kMinNamesWithFile);
  EXPECT_EQ(r.resolved, r.with_file);
}

TEST(CaStoreTest, ResolvesFirefoxNamesByNickname) {
  absl::StatusOr<CaStore> store = CaStore::Load(CaStore::Options());
  ASSERT_TRUE(store.ok()) << store.status();
  const Resolution r = CheckAgainstMozillaFiles(*store, CaStore::MatchMethod::kNickname);
  EXPECT_GE(r.with_file, kMinNamesWithFile);
  EXPECT_EQ(r.resolved, r.with_file);
  absl::StatusOr<std::vector<SpkiHash>> gone = store->Resolve("GeoTrust Global CA");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(), HasSubstr("ca-certificates.crt"));
}

TEST(CaStoreTest, NicknameFileNameFollowsDebianConventions) {
  EXPECT_EQ(CaStore::NicknameFileName("Entrust.net Premium 2048 Secure Server CA"),
            "Entrust.net_Premium_2048_Secure_Server_CA");
  EXPECT_EQ(CaStore::NicknameFileName(
                "NetLock Arany (Class Gold) F\xC5\x91tan\xC3\xBAs\xC3\xADtv\xC3\xA1ny"),
            "NetLock_Arany_=Class_Gold=_F\xC5\x91tan\xC3\xBAs\xC3\xADtv\xC3\xA1ny");
  EXPECT_EQ(CaStore::NicknameFileName("A/B, C"), "A_B__C");
}

class SyntheticStoreTest : public ::testing::Test {
 protected:
  std::string Cert(const std::string& cn, const std::string& o, const std::string& ou) {
    keys_.push_back(std::make_unique<TestKey>(TestKey::GenerateEc()));
    const TestKey* key = keys_.back().get();
    return testing::DerCertificateToPem(
        testing::MakeCertificateDer({.subject_cn = cn,
                                     .subject_o = o,
                                     .subject_ou = ou,
                                     .subject_key = key,
                                     .issuer_cn = cn.empty() ? "x" : cn,
                                     .issuer_key = key,
                                     .is_ca = true}));
  }

  CaStore Store(const std::vector<std::string>& pems) {
    std::string bundle;
    for (const std::string& p : pems) bundle += p;
    absl::StatusOr<CaStore> store = CaStore::FromPemBundle(bundle, "synthetic");
    EXPECT_TRUE(store.ok()) << store.status();
    return *std::move(store);
  }

  std::vector<std::unique_ptr<TestKey>> keys_;
};

std::vector<std::string> CommonNames(const absl::StatusOr<CaStore::Match>& match) {
  std::vector<std::string> out;
  if (!match.ok()) return out;
  for (const CaCertificate* c : match->certificates) {
    out.push_back(c->common_name.empty() ? c->organizational_units.front() : c->common_name);
  }
  return out;
}

TEST_F(SyntheticStoreTest, MatchesSubjectsByMozillaConventions) {
  const CaStore store = Store({
      Cert("Example Root Certification Authority", "Example Inc", ""),
      Cert("", "Old Group, Inc.", "Old Class 2 Certification Authority"),
      Cert("Shared", "Shared", "Shared Root CA - R9"),
      Cert("", "Only Org", ""),
      Cert("Twin Root", "Twin", ""),
      Cert("Twin Root", "Twin", ""),
      Cert("AAA Certificate Services", "Comodo CA Limited", ""),
  });
  ASSERT_EQ(store.certificates().size(), 7u);
  // CN, case and punctuation insensitive.
  EXPECT_THAT(CommonNames(store.Find("example root certification authority")),
              ElementsAre("Example Root Certification Authority"));
  // "Certification Authority" abbreviated to "CA" in the nickname.
  EXPECT_THAT(CommonNames(store.Find("Example Root CA")),
              ElementsAre("Example Root Certification Authority"));
  // OU when there is no CN, with the abbreviation.
  EXPECT_THAT(CommonNames(store.Find("Old Class 2 CA")),
              ElementsAre("Old Class 2 Certification Authority"));
  // OU even when there is a CN.
  EXPECT_THAT(CommonNames(store.Find("Shared Root CA - R9")), ElementsAre("Shared"));
  // O only when there is neither CN nor OU.
  EXPECT_TRUE(store.Find("Only Org").ok());
  EXPECT_FALSE(store.Find("Example Inc").ok());
  // A name shared by several certificates resolves to all of them.
  EXPECT_THAT(CommonNames(store.Find("Twin Root")), ElementsAre("Twin Root", "Twin Root"));
  absl::StatusOr<std::vector<SpkiHash>> twins = store.Resolve("Twin Root");
  ASSERT_TRUE(twins.ok());
  EXPECT_EQ(twins->size(), 2u);
  // Old nicknames from the alias table.
  absl::StatusOr<CaStore::Match> alias = store.Find("Comodo AAA Services root");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->method, CaStore::MatchMethod::kAlias);
  // No partial matches.
  EXPECT_FALSE(store.Find("Example Root").ok());
  EXPECT_FALSE(store.Find("Root").ok());
  EXPECT_FALSE(store.Find("Shared Root CA").ok());
  EXPECT_FALSE(store.Find("").ok());
}

TEST_F(SyntheticStoreTest, RejectsEmptyAndBrokenBundles) {
  EXPECT_FALSE(CaStore::FromPemBundle("", "empty").ok());
  EXPECT_FALSE(CaStore::FromPemBundle(Cert("A", "", "") + "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                                          "-----END CERTIFICATE-----\n",
                                      "broken")
                   .ok());
  EXPECT_EQ(CaStore::Load({.bundle_path = "/nonexistent.crt", .nickname_dir = ""}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pinning::client
